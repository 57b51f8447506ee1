module github.com/cretoai/monitor

go 1.26.8

require (
	github.com/gorilla/mux v1.8.1
	go.etcd.io/bbolt v1.4.3
)

require golang.org/x/sys v0.29.0 // indirect

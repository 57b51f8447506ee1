package alerting

// Receivers of alertmanager.yml and where they deliver by default: the
// webhook sink of the compose stack, which needs no external account. The
// sink, the compose file and the e2e tests take these from here.
const (
	// AlertSinkURL is the base URL of the webhook sink in the compose network.
	AlertSinkURL = "http://alert-sink:8095"

	// Receiver names and the sink path each one posts to.
	ReceiverDefault   = "default" // warning and info alerts
	ReceiverCritical  = "critical"
	ReceiverHeartbeat = "heartbeat" // the Watchdog only

	WebhookDefaultPath   = "/webhook/default"
	WebhookCriticalPath  = "/webhook/critical"
	WebhookHeartbeatPath = "/webhook/heartbeat"
)

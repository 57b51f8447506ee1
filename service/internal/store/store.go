// Package store is the durable embedded store of the book, on bbolt: one file,
// nothing to install, every commit fsynced before it returns. It stores opaque
// records; the ledger owns their encoding.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketNodes = []byte("nodes")
	bucketMeta  = []byte("meta")
	bucketIdem  = []byte("idempotency")
	keyNetwork  = []byte("network")
)

// FileName is the name of the database file inside the data directory.
const FileName = "cretoai.db"

// Store is an open database.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database in dir. It fails fast when
// another process holds the file.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked: is another cretoai using this data directory? (%w)", filepath.Join(dir, FileName), err)
		}
		return nil, fmt.Errorf("store: open %s: %w", filepath.Join(dir, FileName), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketNodes, bucketMeta, bucketIdem} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database is open and readable.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// Contents is everything the store holds.
type Contents struct {
	Nodes   map[string][]byte
	Network []byte // nil before the first commit
}

// Load reads the whole store.
func (s *Store) Load() (Contents, error) {
	c := Contents{Nodes: map[string][]byte{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyNetwork); v != nil {
			c.Network = append([]byte(nil), v...)
		}
		return tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
			c.Nodes[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return Contents{}, fmt.Errorf("store: load: %w", err)
	}
	return c, nil
}

// GetIdem returns the stored idempotency record of key, if any. Idempotency
// records stay on disk only, so memory does not grow with the number of
// keyed requests.
func (s *Store) GetIdem(key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketIdem).Get([]byte(key)); b != nil {
			v = append([]byte(nil), b...)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: read idempotency key: %w", err)
	}
	return v, v != nil, nil
}

// PruneIdem deletes the idempotency records for which expired returns true,
// in one fsynced transaction, and returns how many it deleted.
func (s *Store) PruneIdem(expired func(record []byte) bool) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		var keys [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if expired(v) {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune idempotency keys: %w", err)
	}
	return n, nil
}

// Changes is one atomic commit.
type Changes struct {
	PutNodes    map[string][]byte
	DeleteNodes []string
	Network     []byte // nil leaves it unchanged
	PutIdem     map[string][]byte
}

// Empty reports whether the commit would change nothing.
func (c *Changes) Empty() bool {
	return len(c.PutNodes) == 0 && len(c.DeleteNodes) == 0 && c.Network == nil &&
		len(c.PutIdem) == 0
}

// Commit writes c in one transaction and fsyncs it: when Commit returns nil the
// change survives a crash; when it returns an error nothing of it was applied.
func (s *Store) Commit(c Changes) error {
	if c.Empty() {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		nodes, meta, idem := tx.Bucket(bucketNodes), tx.Bucket(bucketMeta), tx.Bucket(bucketIdem)
		for k, v := range c.PutNodes {
			if err := nodes.Put([]byte(k), v); err != nil {
				return err
			}
		}
		for _, k := range c.DeleteNodes {
			if err := nodes.Delete([]byte(k)); err != nil {
				return err
			}
		}
		if c.Network != nil {
			if err := meta.Put(keyNetwork, c.Network); err != nil {
				return err
			}
		}
		for k, v := range c.PutIdem {
			if err := idem.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

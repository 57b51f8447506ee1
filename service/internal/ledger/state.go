package ledger

import (
	"encoding/json"
	"fmt"

	"github.com/cretoai/monitor/service/internal/store"
)

// state is the book in memory plus the changes not yet committed. Only the
// committer goroutine mutates it, with Ledger.mu held.
type state struct {
	nodes map[string]*Node
	net   Network

	dirty    map[string]bool // node id → true to store, false to delete
	netDirty bool
	idemPut  map[string]idemRecord // keys of the group being applied
	effects  []Effect
}

func newState() *state {
	return &state{
		nodes: map[string]*Node{},
		net:   Network{Distributions: map[string]uint64{}, FailedPayouts: map[string]uint64{}},
		dirty: map[string]bool{},
	}
}

func (s *state) touch(id string)      { s.dirty[id] = true }
func (s *state) touchNet()            { s.netDirty = true }
func (s *state) emit(e Effect)        { s.effects = append(s.effects, e) }
func (s *state) node(id string) *Node { return s.nodes[id] }
func (s *state) forget(id string)     { delete(s.nodes, id); s.dirty[id] = false }
func (s *state) putIdem(key string, r idemRecord) {
	if s.idemPut == nil {
		s.idemPut = map[string]idemRecord{}
	}
	s.idemPut[key] = r
}

// takeChanges encodes the pending changes for one commit and resets them.
func (s *state) takeChanges() (store.Changes, []Effect, error) {
	var c store.Changes
	if len(s.dirty) > 0 {
		c.PutNodes = make(map[string][]byte, len(s.dirty))
		for id, put := range s.dirty {
			if !put {
				c.DeleteNodes = append(c.DeleteNodes, id)
				continue
			}
			b, err := json.Marshal(s.nodes[id])
			if err != nil {
				return store.Changes{}, nil, fmt.Errorf("ledger: encode node %q: %w", id, err)
			}
			c.PutNodes[id] = b
		}
		clear(s.dirty)
	}
	if s.netDirty {
		b, err := json.Marshal(&s.net)
		if err != nil {
			return store.Changes{}, nil, fmt.Errorf("ledger: encode network: %w", err)
		}
		c.Network = b
		s.netDirty = false
	}
	if len(s.idemPut) > 0 {
		c.PutIdem = make(map[string][]byte, len(s.idemPut))
		for k, r := range s.idemPut {
			b, err := json.Marshal(r)
			if err != nil {
				return store.Changes{}, nil, fmt.Errorf("ledger: encode idempotency record: %w", err)
			}
			c.PutIdem[k] = b
		}
		s.idemPut = nil
	}
	effects := s.effects
	s.effects = nil
	return c, effects, nil
}

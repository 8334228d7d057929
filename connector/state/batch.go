package state

// Batch collects the changes of one transaction on top of a Store. Reads see
// the batch's own changes first, so that a call met twice in one batch is
// diffed against what the batch already decided.
type Batch struct {
	store       *Store
	calls       map[int64]Entry
	order       []int64 // first-touch order, for deterministic output
	deleted     map[int64]bool
	checkpoints map[string][]byte
}

// NewBatch starts an empty batch over s.
func (s *Store) NewBatch() *Batch {
	return &Batch{store: s, calls: make(map[int64]Entry), deleted: make(map[int64]bool), checkpoints: make(map[string][]byte)}
}

// Get returns the entry of a call as the batch would leave it.
func (b *Batch) Get(id int64) (Entry, bool) {
	if e, ok := b.calls[id]; ok {
		return e, true
	}
	if b.deleted[id] {
		return Entry{}, false
	}
	return b.store.Get(id)
}

// Put records a call's new entry.
func (b *Batch) Put(id int64, e Entry) {
	if _, ok := b.calls[id]; !ok && !b.deleted[id] {
		b.order = append(b.order, id)
	}
	delete(b.deleted, id)
	b.calls[id] = e
}

// Delete drops a call (a tombstone in the state topic).
func (b *Batch) Delete(id int64) {
	if _, ok := b.calls[id]; !ok && !b.deleted[id] {
		b.order = append(b.order, id)
	}
	delete(b.calls, id)
	b.deleted[id] = true
}

// SetCheckpoint records a checkpoint's new value.
func (b *Batch) SetCheckpoint(name string, v []byte) { b.checkpoints[name] = v }

// Checkpoint returns a checkpoint as the batch would leave it.
func (b *Batch) Checkpoint(name string) []byte {
	if v, ok := b.checkpoints[name]; ok {
		return v
	}
	return b.store.Checkpoint(name)
}

// Calls returns how many calls the batch puts or deletes.
func (b *Batch) Calls() int { return len(b.order) }

// Checkpoints calls yield with each checkpoint the batch sets.
func (b *Batch) Checkpoints(yield func(name string, v []byte)) {
	for name, v := range b.checkpoints {
		yield(name, v)
	}
}

// Records returns the batch as state-topic records, in the order the calls
// were first touched, then the checkpoints. The calls' keys and values
// share one buffer.
func (b *Batch) Records(appendRec func(key, value []byte)) {
	buf := make([]byte, 0, len(b.order)*(callKeySize+entrySize))
	for _, id := range b.order {
		n := len(buf)
		buf = appendCallKey(buf, id)
		key := buf[n:len(buf):len(buf)]
		if b.deleted[id] {
			appendRec(key, nil)
			continue
		}
		n = len(buf)
		buf = appendEntry(buf, b.calls[id])
		appendRec(key, buf[n:len(buf):len(buf)])
	}
	for name, v := range b.checkpoints {
		appendRec(CheckpointKey(name), v)
	}
}

// Apply makes the batch's changes in its store. Call it only once the
// transaction that carried the batch has committed.
func (b *Batch) Apply() {
	for _, id := range b.order {
		if b.deleted[id] {
			b.store.remove(id)
			continue
		}
		b.store.put(id, b.calls[id])
	}
	for name, v := range b.checkpoints {
		b.store.checkpoints[name] = v
	}
}

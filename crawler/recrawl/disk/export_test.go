package disk

// Commits returns the number of transactions s committed.
func Commits(s *Store) int64 { return s.commits.Load() }

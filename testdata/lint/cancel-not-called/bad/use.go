package bad

var _ = []any{dropped, unused, missedOnError, start, errSentinel, narrow}

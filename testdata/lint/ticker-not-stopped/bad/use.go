package bad

var _ = []any{heartbeat, poll, ticks, newPinger}

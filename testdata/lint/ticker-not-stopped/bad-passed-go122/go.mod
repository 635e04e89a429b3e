module leakwatch.test/lint/ticker122passedbad

// Before Go 1.23 an unstopped ticker is never collected, wherever it was handed.
go 1.22

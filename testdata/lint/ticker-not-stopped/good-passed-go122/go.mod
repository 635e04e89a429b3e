module leakwatch.test/lint/ticker122passedgood

// Before Go 1.23 an unstopped ticker is never collected: each one here is stopped where it is handed.
go 1.22

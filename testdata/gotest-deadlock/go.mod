module leakwatch.test/gotest-deadlock

go 1.26

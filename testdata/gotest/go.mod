module leakwatch.test/gotest

go 1.26

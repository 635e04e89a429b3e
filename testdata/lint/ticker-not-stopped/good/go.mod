module leakwatch.test/lint/ticker122good

go 1.22

module leakwatch.test/lint/ticker122bad

// Before Go 1.23 an unstopped ticker is never collected: the shapes here leak under that
// language version, and the rule reads it from this line.
go 1.22

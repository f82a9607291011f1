# compare.awk - the reports of a wild run against its expectations, in order.
#   awk -v expect=EXPECT_FILE -f compare.awk STDERR_FILE
# Expectation lines: "KIND[|KIND] 0xADDR FUNC". Report first lines:
# "ftmalloc: ERROR: KIND on address 0xADDR (...) in FUNC, thread TN".
# Prints "ok N" or the first mismatches and "mismatch N" (at most 5 shown).
BEGIN { n = 0; bad = 0 }
/^ftmalloc: ERROR: / {
	kind = $3; addr = $6
	func_ = $0
	sub(/.* in /, "", func_); sub(/,.*/, "", func_)
	n++
	if ((getline line < expect) <= 0) {
		if (bad++ < 5) print "report " n " not expected: " $0
		next
	}
	split(line, e, " ")
	nk = split(e[1], kinds, "|")
	okk = 0
	for (i = 1; i <= nk; i++) if (kinds[i] == kind) okk = 1
	if (!okk || e[2] != addr || e[3] != func_) {
		if (bad++ < 5) print "report " n ": got '" kind " " addr " " func_ "', expected '" line "'"
	}
}
END {
	while ((getline line < expect) > 0) {
		n++
		if (bad++ < 5) print "expected report " n " missing: " line
	}
	if (bad) print "mismatch " bad; else print "ok " n
}

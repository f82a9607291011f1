# check.awk - checks the stderr of one death-suite run against one table row.
# POSIX awk (runs under mawk and gawk). Reads the program's stderr; variables:
#   kind    ERE the KIND of the first "ftmalloc: ERROR:" line must match whole
#   where   ERE its parenthesis must contain ("-": no check)
#   api    ERE its FUNC must contain ("-": no check)
#   alloc   function that must appear in the "allocated by" section, optionally
#           "@T0" (allocating thread must be T0) or "@Tn" (must not be T0); "-": none
#   freed   the same for the "freed by" section
#   det     function that must appear in the "detected at" section ("-": none)
# Prints nothing when the report is right, else the reasons, "; "-separated.

function fail(msg) { reasons = reasons (reasons == "" ? "" : "; ") msg }

# has_fn(frames, name): name appears in frames as a whole identifier
function has_fn(text, name,    re) {
	re = "(^|[^A-Za-z0-9_])" name "([^A-Za-z0-9_]|$)"
	return text ~ re
}

# check_section(key, title, spec): the section exists, names the function,
# and its thread is the expected one
function check_section(key, title, spec,    name, thr) {
	name = spec; thr = ""
	if (index(spec, "@") > 0) {
		name = substr(spec, 1, index(spec, "@") - 1)
		thr = substr(spec, index(spec, "@") + 1)
	}
	if (!(key in seen)) {
		fail("no '" title "' section in the report")
		return
	}
	if (!has_fn(frames[key], name))
		fail("'" name "' not in the '" title "' section:" (frames[key] == "" ? " (no frames)" : frames[key]))
	if (thr == "T0" && thread[key] != "0")
		fail("'" title "' names thread T" thread[key] ", expected T0")
	if (thr == "Tn" && thread[key] == "0")
		fail("'" title "' names thread T0, expected another thread")
}

BEGIN { state = 0; summary = 0; nerrors = 0 }

/^ftmalloc: SUMMARY:/ { summary = 1 }
/^ftmalloc: ERROR: / { nerrors++ }

# the first report: its ERROR line, then everything up to the next "ftmalloc:" line
state == 1 && /^ftmalloc:/ { state = 2 }
state == 0 && /^ftmalloc: ERROR: / { first = $0; state = 1; sec = "other"; next }
state == 1 {
	if ($0 ~ /^  [^ ].*:[ \t]*$/) {
		sec = "other"
		if ($0 ~ /^  allocated by/) sec = "alloc"
		else if ($0 ~ /^  freed by/) sec = "freed"
		else if ($0 ~ /^  detected at/) sec = "det"
		if (sec != "other") {
			seen[sec] = 1
			t = $0
			if (t ~ /thread T[0-9]+/) {
				sub(/.*thread T/, "", t)
				sub(/[^0-9].*/, "", t)
				thread[sec] = t
			} else
				thread[sec] = "?"
		}
		next
	}
	if ($0 ~ /^    /)
		frames[sec] = frames[sec] " | " substr($0, 5)
}

END {
	if (first == "") {
		print "no 'ftmalloc: ERROR:' line on stderr"
		exit 0
	}
	line = first
	if (line !~ /^ftmalloc: ERROR: [a-z-]+ on address 0x[0-9a-fA-F]+ \(.*\) in .+, thread T[0-9]+$/)
		fail("first ERROR line not in the report format: " first)
	sub(/^ftmalloc: ERROR: /, "", line)
	k = line
	sub(/ .*/, "", k)
	if (k !~ ("^(" kind ")$"))
		fail("kind is '" k "', expected '" kind "' (" first ")")
	# the parenthesis: from the first "(" to the last ") in "
	p = ""; f = ""
	if (index(line, "(") > 0) {
		rest = substr(line, index(line, "(") + 1)
		p = rest; f = ""
		n = 0
		while ((i = index(rest, ") in ")) > 0) {
			n += i
			rest = substr(rest, i + 1)
		}
		if (n > 0) {
			p = substr(p, 1, n - 1)
			f = substr(line, index(line, "(") + n + 5)
			sub(/, thread T[0-9]+$/, "", f)
		}
	}
	if (where != "-" && p !~ where)
		fail("parenthesis '(" p ")' does not match /" where "/")
	if (api != "-" && f !~ api)
		fail("function '" f "' does not match /" api "/")
	if (alloc != "-")
		check_section("alloc", "allocated by", alloc)
	if (freed != "-")
		check_section("freed", "freed by", freed)
	if (det != "-")
		check_section("det", "detected at", det)
	if (k == "memory-leak" && !summary)
		fail("no 'ftmalloc: SUMMARY:' line after the leak report")
	if (reasons != "")
		print reasons
}

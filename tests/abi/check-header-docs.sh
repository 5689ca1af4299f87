#!/bin/sh
# Every LUPI_API function of lupi.h is documented with @since, and every
# fallible one (returning int, other than the value accessors below) lists
# its errors ("@return ..." or "Errors as ..."). Declarations that follow
# each other without a comment between them share the comment above them.
# Usage: check-header-docs.sh lupi.h
set -eu
awk '
function check(decl,   name, ret) {
	name = decl
	sub(/\(.*/, "", name)
	sub(/.*[ *]/, "", name)
	ret = decl
	sub(/^LUPI_API[ \t]+/, "", ret)
	sub(/[ \t]+.*/, "", ret)
	if (doc !~ /@since/) {
		print "lupi.h: " name ": no @since" > "/dev/stderr"
		bad = 1
	}
	if (ret == "int" && name !~ /^lupi_(dataset_task|model_task|loss_kind|compare_metric|get_num_threads)$/ &&
	    doc !~ /@return/ && doc !~ /[Ee]rrors (are )?as/) {
		print "lupi.h: " name ": returns a status but lists no errors" > "/dev/stderr"
		bad = 1
	}
	n++
}
/^[ \t]*\/\*/ { if (fresh) { doc = ""; fresh = 0 } incomment = 1 }
incomment { doc = doc " " $0; if ($0 ~ /\*\//) incomment = 0; next }
/^LUPI_API/ { decl = $0; indecl = 1 }
indecl && !/^LUPI_API/ { decl = decl " " $0 }
indecl && /;/ { indecl = 0; check(decl); fresh = 1 }
/^#define|^typedef/ { if (!indecl) { doc = ""; fresh = 0 } }
END {
	if (n == 0) { print "no LUPI_API declarations found" > "/dev/stderr"; exit 1 }
	if (bad) exit 1
	print n " declarations documented"
}' "$1"

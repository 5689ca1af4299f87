#!/bin/sh
# Folders of lib/ are layers and includes only point down (doc/abi.md):
#   core -> data, distill -> model -> train -> families -> api
# A file may include its own folder's headers and the internal header of a
# lower layer, nothing else of lib/. Usage: check-layers.sh LIBDIR
set -eu
lib=$1
# rank: a layer may include a layer of strictly lower rank (data and
# distill share a rank and must not include each other).
rank() {
	case $1 in
	core) echo 0 ;;
	data | distill) echo 1 ;;
	model) echo 2 ;;
	train) echo 3 ;;
	api) echo 9 ;; # the option directory sees every handle
	control | privacy | svm | tram) echo 4 ;; # method families
	*) echo 4 ;; # method families, built on train
	esac
}
status=0
for f in "$lib"/*/*.c "$lib"/*/*.h; do
	dir=$(basename "$(dirname "$f")")
	mine=$(rank "$dir")
	# '#include "x"' lines: a path with ../ names another folder.
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		../*/*)
			other=$(echo "$inc" | cut -d/ -f2)
			theirs=$(rank "$other")
			if [ "$other" = "$dir" ] || [ "$theirs" -ge "$mine" ]; then
				echo "$f includes $inc: layer '$other' is not below '$dir'" >&2
				status=1
			fi
			;;
		*/*)
			echo "$f includes $inc: name lower layers as ../layer/header.h" >&2
			status=1
			;;
		*)
			[ "$inc" = lupi.h ] && continue
			[ -f "$(dirname "$f")/$inc" ] || {
				echo "$f includes $inc, which is not in $dir/" >&2
				status=1
			}
			;;
		esac
	done
done
[ $status -eq 0 ] && echo "every include of $lib points down"
exit $status

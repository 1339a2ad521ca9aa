#!/bin/sh
# Re-records the expected outputs of the Butane reference cases with a real Butane binary.
#
# Usage: tests/compat/record.sh /path/to/butane [CASE.bu ...]
#
# For each case (all of butane/*.bu by default) it writes, beside the case:
#   NAME.ign       what Butane printed with --pretty -d files
#   NAME.warnings  Butane's --raw-errors warnings, only when it printed any
# A case named *-rejects-* must be refused by Butane: its --raw-errors output is written to
# NAME.errors and no NAME.ign exists. Any other case that Butane refuses stops the script.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 /path/to/butane [CASE.bu ...]" >&2
    exit 2
fi
butane=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
version=$("$butane" --version)
case "$version" in
    "Butane v0.29.0") ;;
    *) echo "$0: expected Butane v0.29.0, $butane is $version" >&2; exit 1 ;;
esac

cd "$(dirname "$0")/butane"
if [ $# -eq 0 ]; then
    set -- *.bu
fi
for case in "$@"; do
    name=$(basename "$case" .bu)
    # Relative paths, so that recorded warnings name no directory of this machine.
    if ! "$butane" --pretty --raw-errors -d files "$name.bu" >"$name.ign.new" 2>"$name.warnings.new"; then
        case "$name" in
            *-rejects-*)
                rm -f "$name.ign.new" "$name.ign" "$name.warnings"
                mv "$name.warnings.new" "$name.errors"
                echo "recorded $name (rejected)"
                continue
                ;;
        esac
        echo "$0: Butane rejected $name.bu:" >&2
        cat "$name.warnings.new" >&2
        rm -f "$name.ign.new" "$name.warnings.new"
        exit 1
    fi
    case "$name" in
        *-rejects-*)
            echo "$0: Butane accepted $name.bu, which is meant to be rejected" >&2
            rm -f "$name.ign.new" "$name.warnings.new"
            exit 1
            ;;
    esac
    mv "$name.ign.new" "$name.ign"
    if [ -s "$name.warnings.new" ]; then
        mv "$name.warnings.new" "$name.warnings"
    else
        rm -f "$name.warnings.new" "$name.warnings"
    fi
    echo "recorded $name"
done

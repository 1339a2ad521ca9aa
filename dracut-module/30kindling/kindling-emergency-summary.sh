#!/bin/bash
# Pulled in by emergency.target. When a Kindling stage failed, prints on the console which stage,
# its error lines from the journal and the command that shows the full log. It never prints the
# config: only the engine's "error:" and "caused by:" lines, which name paths, URLs (without
# credentials) and digests, never contents.
set -uo pipefail

units=(kindling-fetch-offline.service kindling-fetch.service kindling-kargs.service
    kindling-disks.service kindling-remount-sysroot.service kindling-mount.service
    kindling-files.service)
max_lines="${KINDLING_SUMMARY_LINES:-12}"

failed=()
for unit in "${units[@]}"; do
    state=$(systemctl show -P ActiveState "$unit" 2>/dev/null) || state=""
    result=$(systemctl show -P Result "$unit" 2>/dev/null) || result=""
    if [[ $state == failed || ($result != success && -n $result) ]]; then
        failed+=("$unit")
    fi
done
((${#failed[@]})) || exit 0

rule="------------------------------------------------------------------------------"
echo
echo "$rule"
echo "KINDLING: FIRST-BOOT PROVISIONING FAILED. The boot stops here; the root was not started."
for unit in "${failed[@]}"; do
    stage=${unit#kindling-}
    stage=${stage%.service}
    echo
    echo "Failed stage: $stage ($unit)"
    # The engine's final error report: the last "error: ..." line and what follows it
    # ("  caused by: ..." lines, a failed command's stderr). Only the engine's own output
    # (SYSLOG_IDENTIFIER=kindling), not systemd's lines about the unit. Plain bash: the
    # initramfs has no tail or cut.
    errors=()
    while IFS= read -r line; do
        if [[ $line == "error: "* ]]; then
            errors=()
        fi
        if [[ $line == "error: "* || ${#errors[@]} -gt 0 ]]; then
            errors+=("${line:0:600}")
        fi
    done < <(journalctl -b -q -o cat --no-pager -u "$unit" SYSLOG_IDENTIFIER=kindling 2>/dev/null)
    if ((${#errors[@]})); then
        for line in "${errors[@]:0:max_lines}"; do
            echo "  $line"
        done
        if ((${#errors[@]} > max_lines)); then
            echo "  ... ($((${#errors[@]} - max_lines)) more lines in the log)"
        fi
    else
        echo "  (no error line from the engine; unit result: $(systemctl show -P Result "$unit" 2>/dev/null))"
    fi
    echo "Full log: journalctl -b -u $unit"
done
echo "$rule"

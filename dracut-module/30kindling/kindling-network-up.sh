#!/bin/bash
# ExecStartPre of kindling-fetch.service: the config needs the network, so bring it up now:
# systemd-networkd with DHCP on every ethernet link (90-kindling-dhcp.network), then wait until
# a link is routable. A first boot whose config is local never gets here.
set -euo pipefail

timeout="${KINDLING_NETWORK_TIMEOUT:-90}"

echo "kindling: the config needs the network: starting systemd-networkd"
systemctl start systemd-networkd.service
if ! /usr/lib/systemd/systemd-networkd-wait-online --any --operational-state=routable \
    --timeout="$timeout"; then
    echo "kindling: no network link became routable within ${timeout}s" >&2
    networkctl --no-pager list >&2 || :
    exit 1
fi
while IFS= read -r line; do
    echo "kindling: link $line"
done < <(ip -brief address show 2>/dev/null)

# No resolver runs in the initramfs: hand the DNS servers from the DHCP leases to glibc.
# (Plain bash: the initramfs has no grep.)
have_resolver=""
if [[ -f /etc/resolv.conf ]]; then
    while read -r key _; do
        [[ $key == nameserver ]] && have_resolver=1
    done </etc/resolv.conf
fi
if [[ -z $have_resolver ]]; then
    servers=()
    for lease in /run/systemd/netif/leases/*; do
        [[ -f $lease ]] || continue
        while IFS='=' read -r key value; do
            if [[ $key == DNS ]]; then
                read -r -a found <<<"$value"
                servers+=("${found[@]}")
            fi
        done <"$lease"
    done
    if ((${#servers[@]})); then
        rm -f /etc/resolv.conf
        printf 'nameserver %s\n' "${servers[@]}" >/etc/resolv.conf
        echo "kindling: DNS servers from DHCP: ${servers[*]}"
    fi
fi

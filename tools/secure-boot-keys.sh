#!/usr/bin/env bash
# Makes a Secure Boot key set and an OVMF variable store with it enrolled, for tests and for
# trying the chain out:
#
#   tools/secure-boot-keys.sh OUT_DIR
#
# OUT_DIR/keys/{PK,KEK,db}.{key,crt}  our platform key, key-exchange key and signature-db key
# OUT_DIR/keys/other.{key,crt}        a key that is not enrolled (for the negative tests)
# OUT_DIR/vars.fd                      OVMF_VARS_4M.fd with PK, KEK and db enrolled, Secure Boot on
#
# Cached: does nothing when OUT_DIR/vars.fd exists. virt-firmware (PyPI; not packaged in bookworm)
# is installed into OUT_DIR/venv. Needs openssl, python3 (venv), ovmf.
set -euo pipefail
out=${1:?usage: tools/secure-boot-keys.sh OUT_DIR}
vars_in=/usr/share/OVMF/OVMF_VARS_4M.fd
[[ -f $out/vars.fd ]] && exit 0
[[ -r $vars_in ]] || { echo "secure-boot-keys: $vars_in is missing (apt-get install ovmf)" >&2; exit 1; }
mkdir -p "$out/keys"
if [[ ! -x $out/venv/bin/virt-fw-vars ]]; then
    python3 -m venv "$out/venv"
    "$out/venv/bin/pip" install --quiet --disable-pip-version-check virt-firmware
fi
for k in PK KEK db other; do
    [[ -f $out/keys/$k.key ]] && continue
    openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=Kindling test $k/" -keyout "$out/keys/$k.key" -out "$out/keys/$k.crt" 2>/dev/null
done
guid=$(python3 -c 'import uuid; print(uuid.uuid4())')
"$out/venv/bin/virt-fw-vars" --input "$vars_in" --output "$out/vars.fd.tmp" \
    --set-pk "$guid" "$out/keys/PK.crt" --add-kek "$guid" "$out/keys/KEK.crt" \
    --add-db "$guid" "$out/keys/db.crt" --secure-boot >"$out/enroll.log" 2>&1 ||
    { cat "$out/enroll.log" >&2; exit 1; }
mv "$out/vars.fd.tmp" "$out/vars.fd"
echo "secure-boot-keys: $out/vars.fd (PK, KEK, db enrolled; Secure Boot on)"

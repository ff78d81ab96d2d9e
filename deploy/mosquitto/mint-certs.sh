#!/usr/bin/env bash
# Mints the certificates of a DatasetQuant fleet with openssl: a fleet CA, the broker's server certificate, the
# coordinator's client certificate and one client certificate per device (CN = device id = MQTT username).
#
#   deploy/mosquitto/mint-certs.sh OUT_DIR DEVICE_ID...
#
# Environment: BROKER_SANS (default "IP:127.0.0.1,DNS:localhost"; add your broker's DNS name),
# COORDINATOR_ID (default dq-coordinator), DAYS (default 825). An existing CA in OUT_DIR is reused, so running it
# again with new device ids adds devices to the same fleet. Keys are EC P-256 and readable by their owner only.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 OUT_DIR [DEVICE_ID...]" >&2
    exit 64
fi

out=$1
shift
broker_sans=${BROKER_SANS:-IP:127.0.0.1,DNS:localhost}
coordinator=${COORDINATOR_ID:-dq-coordinator}
days=${DAYS:-825}
mkdir -p "$out"
umask 077

valid_id='^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
for id in "$@"; do
    if [[ $id == "$coordinator" || $id == broker || $id == fleet-ca ]]; then
        echo "$0: device id '$id' is reserved (coordinator, broker and CA names)" >&2
        exit 65
    fi
done
for id in "$coordinator" "$@"; do
    if [[ ! $id =~ $valid_id ]]; then
        echo "$0: '$id' is not a valid id: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" >&2
        exit 65
    fi
done

if [[ ! -f $out/fleet-ca.key ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
        -keyout "$out/fleet-ca.key" -out "$out/fleet-ca.crt" -subj "/O=DatasetQuant/CN=DatasetQuant fleet CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    echo "fleet CA: $out/fleet-ca.crt"
fi

# mint NAME EXTENSIONS: a key, a CSR and a certificate signed by the fleet CA.
mint() {
    local name=$1 extensions=$2
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
        -keyout "$out/$name.key" -out "$out/$name.csr" -subj "/O=DatasetQuant/CN=$name" 2>/dev/null
    openssl x509 -req -in "$out/$name.csr" -CA "$out/fleet-ca.crt" -CAkey "$out/fleet-ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days "$days" -sha256 -out "$out/$name.crt" -extfile <(printf '%s\n' "$extensions") 2>/dev/null
    rm -f "$out/$name.csr"
    chmod 644 "$out/$name.crt"
    echo "$name: $out/$name.crt"
}

client='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'

mint broker "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$broker_sans"
mint "$coordinator" "$client"
for device in "$@"; do
    mint "$device" "$client"
done
chmod 644 "$out/fleet-ca.crt"

#!/bin/sh
# Provisions PCP accounts in a Mosquitto broker with the dynamic-security plugin (docs/brokers.md):
# the hub's account, and one account per device confined to its own topics, as the hub's embedded broker
# confines a device (hub/broker-auth.ts). Talks to the running broker with mosquitto_ctrl.
#
#   scripts/mosquitto-dynsec.sh hub USERNAME                 the hub: reads every <prefix>/+/up, answers on +/down
#   scripts/mosquitto-dynsec.sh device AGENT_ID [AGENT_ID..] a device (username = the first AGENT_ID); several ids
#                                                            when one sync agent forwards several chains
#   scripts/mosquitto-dynsec.sh revoke USERNAME              delete an account (its connection is closed)
#
# The new account's password is $PCP_MQTT_PASSWORD, or a random one, printed on stdout (only there).
# Broker connection: $MQTT_HOST (localhost), $MQTT_PORT (1883), $DYNSEC_ADMIN_USER and
# $DYNSEC_ADMIN_PASSWORD (the account made by `mosquitto_ctrl dynsec init`), $MOSQUITTO_CTRL_OPTS (more
# mosquitto_ctrl options, e.g. "--cafile ca.pem" for TLS). Topic prefix: $PCP_PREFIX (pcp/v1).
set -eu

usage () { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
: "${DYNSEC_ADMIN_USER:?set DYNSEC_ADMIN_USER (and DYNSEC_ADMIN_PASSWORD) to the dynsec admin account}"
: "${DYNSEC_ADMIN_PASSWORD:?set DYNSEC_ADMIN_PASSWORD}"
PREFIX="${PCP_PREFIX:-pcp/v1}"

ctrl () {
  # mosquitto_ctrl 2.0 exits 0 even when the broker refuses: its "<command>: Error: ..." or "Connection
  # error: ..." on stderr is the only sign, so that is what we check. "already exists" is fine for a role.
  # shellcheck disable=SC2086 # MOSQUITTO_CTRL_OPTS is a list of options
  err="$(mosquitto_ctrl -h "${MQTT_HOST:-localhost}" -p "${MQTT_PORT:-1883}" -u "$DYNSEC_ADMIN_USER" -P "$DYNSEC_ADMIN_PASSWORD" ${MOSQUITTO_CTRL_OPTS:-} dynsec "$@" 2>&1 >/dev/null | grep -i 'error' || true)"
  case "$err" in
    '') ;;
    *'already exists'*) [ "$1" = createRole ] || { echo "mosquitto-dynsec: $err" >&2; exit 1; } ;;
    *) echo "mosquitto-dynsec: $err" >&2; exit 1 ;;
  esac
}

# Base58, 32 characters: the shape of an agent_id (no wildcard or separator can hide in it).
agent_id () {
  printf '%s' "$1" | grep -Eq '^[1-9A-HJ-NP-Za-km-z]{32}$' || { echo "mosquitto-dynsec: \"$1\" is not an agent_id (32 Base58 characters)" >&2; exit 2; }
}

password () {
  if [ -n "${PCP_MQTT_PASSWORD:-}" ]; then printf '%s' "$PCP_MQTT_PASSWORD"
  else od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; fi
}

cmd="$1"; shift
case "$cmd" in
  hub)
    user="$1"; pw="$(password)"
    ctrl createRole pcp-hub
    # The hub subscribes to <prefix>/+/up (or $share/<group>/<prefix>/+/up) and answers on each agent's down.
    ctrl addRoleACL pcp-hub subscribePattern "$PREFIX/+/up" allow
    ctrl addRoleACL pcp-hub publishClientSend "$PREFIX/+/down" allow
    ctrl createClient "$user" -p "$pw"
    ctrl addClientRole "$user" pcp-hub
    ;;
  device)
    for id in "$@"; do agent_id "$id"; done
    user="$1"; pw="$(password)"
    ctrl createClient "$user" -p "$pw"
    for id in "$@"; do
      role="pcp-agent-$id"
      ctrl createRole "$role"
      ctrl addRoleACL "$role" publishClientSend "$PREFIX/$id/up" allow
      ctrl addRoleACL "$role" subscribeLiteral "$PREFIX/$id/down" allow
      ctrl addRoleACL "$role" subscribeLiteral "$PREFIX/$id/a2a" allow
      # A2A requests and replies go to the peer's a2a topic; their bodies are signed (sync/a2a-transport.ts).
      ctrl addRoleACL "$role" publishClientSend "$PREFIX/+/a2a" allow
      ctrl addClientRole "$user" "$role"
    done
    ;;
  revoke)
    ctrl deleteClient "$1"
    exit 0
    ;;
  *) usage ;;
esac
printf '%s\n' "$pw"

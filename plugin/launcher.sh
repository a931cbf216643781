#!/bin/sh
# kubectl-liqo: the file kubectl runs for `kubectl liqo …` (npm run build copies it to
# dist/kubectl-liqo). It starts the plugin, plugin/kubectl-liqo.cjs beside it, with node.
#
# Node 20 reads the file named by NODE_EXTRA_CA_CERTS into its trust store as it starts, before
# any of our code runs: with a system-sized bundle that is ~40 ms on every command, TLS or not.
# So the variable is handed over as LIQO_NODE_EXTRA_CA_CERTS and the plugin adds those
# certificates itself when it makes its first TLS connection (shared/tls/extra-ca.ts).
self=$0
while [ -L "$self" ]; do # krew and `ln -s` put a symlink to this file on PATH
  link=$(readlink -- "$self")
  case $link in
    /*) self=$link ;;
    *) self=${self%/*}/$link ;;
  esac
done
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  LIQO_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export LIQO_NODE_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
exec node "${self%/*}/plugin/kubectl-liqo.cjs" "$@"

#!/bin/bash
# Entry point of the Cassandra stand-in image, after the official image's: "cassandra -f" runs the
# server in the foreground with /etc/cassandra/cassandra.yaml, data in /var/lib/cassandra, and honors
# CASSANDRA_CLUSTER_NAME, CASSANDRA_LISTEN_ADDRESS, CASSANDRA_BROADCAST_ADDRESS,
# CASSANDRA_BROADCAST_RPC_ADDRESS, CASSANDRA_SEEDS, MAX_HEAP_SIZE and HEAP_NEWSIZE.
set -e
if [ "$1" = cassandra ]; then
  shift
  ip=$(hostname -i | awk '{print $1}')
  listen=${CASSANDRA_LISTEN_ADDRESS:-auto}; [ "$listen" = auto ] && listen=$ip
  broadcast=${CASSANDRA_BROADCAST_ADDRESS:-$listen}
  rpc_broadcast=${CASSANDRA_BROADCAST_RPC_ADDRESS:-$broadcast}
  seeds=${CASSANDRA_SEEDS:-$broadcast}
  conf=/etc/cassandra/cassandra.yaml
  sed -i -e "s/^cluster_name:.*/cluster_name: '${CASSANDRA_CLUSTER_NAME:-Test Cluster}'/" \
         -e "s/^listen_address:.*/listen_address: $listen/" \
         -e "s/^broadcast_rpc_address:.*/broadcast_rpc_address: $rpc_broadcast/" \
         -e "s/- seeds:.*/- seeds: \"$seeds\"/" "$conf"
  grep -q '^broadcast_address:' "$conf" || echo "broadcast_address: $broadcast" >> "$conf"
  mkdir -p /var/lib/cassandra
  exec java -Xms"${MAX_HEAP_SIZE:-512M}" -Xmx"${MAX_HEAP_SIZE:-512M}" -Xmn"${HEAP_NEWSIZE:-128M}" -Xss512k -XX:+UseG1GC \
    $(grep -v '^#' /opt/cassandra/conf/jvm17-server.options | tr '\n' ' ') \
    -Dcassandra.config=file://$conf -Dcassandra.storagedir=/var/lib/cassandra -Dcassandra.logdir=/var/log/cassandra \
    -Dlogback.configurationFile=/etc/cassandra/logback.xml -Dcassandra-foreground=yes \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 \
    -cp '/opt/cassandra/lib/*' org.apache.cassandra.service.CassandraDaemon "$@"
fi
exec "$@"

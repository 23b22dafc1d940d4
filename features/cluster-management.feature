Feature: Cluster management: health checks, failure decisions and failover
  Only the coordinators' Raft leader probes the data nodes. A node that fails
  its probes is suspect; it is declared unhealthy only when a majority of the
  coordinator replicas saw it fail and its last lease has run out, and then
  every shard it was primary of gets an in-sync replica promoted. Short
  pauses, one coordinator's bad path and a storm of failures decide nothing.
  Every scenario runs three real `torua coordinator` and three `torua node`
  processes on loopback aliases, replication factor 2, with the default
  health settings: probes every 250 ms, 200 ms timeout, threshold 3, 1 s lease.

  Scenario: A hung node is declared unhealthy and its shards fail over
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When a node that is primary of some shards is stopped with SIGSTOP
    Then within 4.95 s (250 × 3 + 200 + 1000 = 1.95 s, plus a 3 s margin) "/nodes" shows it unhealthy and every shard has an in-sync primary on another node
    And new keys can still be written
    And every acknowledged key is still readable with its value

  Scenario: Twenty pauses shorter than the threshold decide nothing
    Given a running cluster of three coordinators and three data nodes
    When a node is paused 20 times with SIGSTOP for 300 ms, with 700 ms between pauses
    Then the node never left "healthy" in "/nodes"
    And "/events" shows no status change of the node and no promotion of its shards
    And the epochs of its shards are unchanged

  @iptables
  Scenario: The leader's path to one node is cut while the followers still reach it
    Given a running cluster of three coordinators and three data nodes
    When the packet filter cuts the leader off from one node, and only from it
    Then for 5 s the node stays healthy in "/nodes" and no shard of it moves
    And all along the node takes writes for its primary shards: its lease renewals reach the leader through a follower
    When the packet filter is removed
    Then the node is still healthy with its shards in place and takes writes

  Scenario: The leader killed while a node is failing: the new leader completes the failover once
    Given a running cluster of three coordinators and three data nodes
    When a node that is primary of some shards is stopped with SIGSTOP
    And the leader's "/nodes" shows the node suspect
    And the leader is killed with SIGKILL
    Then a new leader declares the node unhealthy and every shard has an in-sync primary on another node
    And "/events" shows each shard the node was primary of promoted exactly once

  Scenario: A node that returns is healthy again and gets nothing back by itself
    Given a running cluster of three coordinators and three data nodes
    And a node that was stopped with SIGSTOP has been declared unhealthy and its shards failed over
    When the node is resumed with SIGCONT
    Then "/nodes" shows it healthy again
    And for 3 s every shard keeps the primary failover gave it and no balance step is taken
    When a rebalance is asked for through "POST /cluster/rebalance"
    Then every shard has its copies in sync, the node's among them, and no node holds two copies more than another

  Scenario: Two of three nodes stopped: the storm guard holds and the cluster is red
    Given a running cluster of three coordinators and three data nodes
    When two nodes are stopped with SIGSTOP
    Then at most one of them is declared unhealthy, for 5 s
    And "/cluster/info" says "red" with the storm guard among its reasons

  Scenario: A webhook receiver gets the events
    Given a webhook receiver listening on 127.0.0.1
    And a running cluster of three coordinators and three data nodes that notifies it
    When a node is stopped with SIGSTOP
    Then the receiver gets the node's status change to unhealthy with its term, index, time and reason
    And the receiver gets the promotions of the node's shards

  # The planned operations and the rest of the original cluster-management suite. Scenarios that need a fourth
  # node say so; the others run the same three coordinators and three nodes.

  Scenario: A new cluster forms with its shards spread evenly
    Given a running cluster of three coordinators and three data nodes
    Then every shard has a primary and a replica on two different nodes, both in sync
    And each node is primary of 2 or 3 of the 8 shards and holds 5 or 6 of the 16 copies
    And "/cluster/info" says "green" with 3 of 3 nodes healthy and 8 of 8 shards assigned

  Scenario: A node stopped with SIGTERM hands its shards over and leaves
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When a node is asked to shut down with SIGTERM
    Then the node exits with code 0 and "/nodes" shows it left, holding no shard copy
    And every acknowledged key is still readable with its value

  Scenario: A node started with the coordinators' addresses registers itself
    Given a running cluster of three coordinators and three of four data nodes
    When the fourth node is started
    Then "/nodes" lists it healthy with its address, its capacity and the version of the package it runs
    And "/events" shows its registration

  Scenario: A node joins and a rebalance spreads the copies evenly while the data stays readable
    Given a running cluster of three coordinators and three of four data nodes
    And a writer that keeps storing new keys through every coordinator
    When the fourth node is started and a rebalance is asked for through "POST /cluster/rebalance"
    Then every shard has 2 copies in sync and no node holds two copies more than another, the new node among them, while every acknowledged key read meanwhile answered with its value
    And every acknowledged key is still readable with its value

  Scenario: The coordinator leader is killed and the data plane keeps serving
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When the leader is killed with SIGKILL
    Then another replica leads within 10 s, in a higher term
    And new keys can still be written
    And every acknowledged key is still readable with its value

  Scenario: A paused leader cannot split the brain
    Given a running cluster of three coordinators and three data nodes
    When the leader is paused with SIGSTOP and another replica is elected
    And a node's labels are changed through the new leader
    And the old leader is resumed
    Then no term ever had two leaders and the old leader follows the new one
    And all three replicas converge on the same state hash, with the new labels

  Scenario: A node never holds more copies than its capacity
    Given a running cluster of three coordinators and three data nodes of capacity 6
    Then no node holds more than 6 copies and "/nodes" shows each one's available capacity
    And the explanation of a shard a full node does not hold names that node's capacity as the rule that keeps a copy off it
    When one node is put in maintenance, which would leave room for 12 of the 16 copies
    Then the request is refused with 409 saying how many nodes are needed, and nothing changed

  Scenario: The cluster info API
    Given a running cluster of three coordinators and three data nodes
    Then "/cluster/info" on every replica names the same cluster, leader and term, the version of the package, 3 healthy nodes, 8 assigned shards, "green" and an uptime

  Scenario: The node info API shows every field
    Given a running cluster of three coordinators and three data nodes
    Then "/nodes/n1/info" on the leader shows its id, address, status, shards, capacity, version, labels, registration, last heartbeat, health, settings version and an uptime that grows

  Scenario: Several nodes go into maintenance at once and are never declared failed
    Given a running cluster of three coordinators and four data nodes
    When two nodes are put in maintenance with one request "POST /nodes/maintenance"
    Then both show "maintenance" with the reason, and their copies move to the two other nodes
    When one of them is stopped with SIGSTOP for 4 s
    Then it stays in maintenance all along
    And a request naming an unknown node is refused with 404 naming it, and nothing changed
    When maintenance is turned off for both
    Then both are healthy members again

  Scenario: A settings change reaches every node, which acknowledges it
    Given a running cluster of three coordinators and three data nodes
    When "PUT /cluster/config?wait=true" lowers maxValueBytes to 1024
    Then the answer comes once every node runs version 2, and "/nodes" shows config_version 2 for each
    And a value of 2048 bytes is refused with 413 while one of 1000 bytes is stored, through a coordinator and at the primary itself

  Scenario: A node is evacuated with progress and nothing is lost
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When node n1 is evacuated through "POST /nodes/n1/evacuate"
    Then "/nodes/n1/info" shows the evacuation's progress, never done while n1 holds a copy
    And n1 ends in maintenance holding no copy, the evacuation done with every copy moved
    And every acknowledged key is still readable with its value

  Scenario: Coordinators and nodes export metrics
    Given a running cluster of three coordinators and three data nodes
    Then the leader's "/metrics" shows it leads, 3 healthy nodes, the copies per node and a green cluster
    And every data node's "/metrics" answers with its own metrics

  Scenario: The coordinators agree on every change
    Given a running cluster of three coordinators and three data nodes
    When 20 label changes are made, each through another replica
    Then every replica shows the last labels in a linearizable read
    And all three replicas converge on the same applied index and state hash

  Scenario: Load-based rebalancing spreads a skewed load without flapping
    Given a running cluster of three coordinators and three data nodes with a hot window of 2 s
    And readers that send 80% of their requests to the shards one node leads
    When the leader's "/nodes" shows that node carrying at least 1.8 times the mean load
    Then the leader moves load off it, each move a committed event whose reason starts "load: NODE at" and names the mean
    And every handoff for load left the old primary in sync, copying nothing, and every copy added for load ended with the hot node's copy dropped
    And the node ends below 1.8 times the mean load, and no load event moves a shard back to it for 8 s
    And no read failed, and every key is still readable with its value

  Scenario: A rolling upgrade restarts one process at a time and loses nothing
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    And a copy of the build whose package.json says the next patch version
    When "torua upgrade" runs with a restart command that starts each process from that copy
    Then "/cluster/info" shows the upgrade's progress while it runs, never more than one node restarting, the data nodes before the coordinators
    And the command exits 0, and every node and coordinator reports the new version, the nodes healthy
    And every copy that left the in-sync set caught up from its own data, none copied whole
    And every acknowledged key is still readable with its value

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
    And the leader's "/nodes" reports the node's path as degraded
    When the packet filter is removed
    Then the leader's "/nodes" reports the node's path as ok again

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

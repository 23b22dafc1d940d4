Feature: Distributed storage on data nodes
  Data nodes hold the shards of the key space; every shard has a primary and,
  with replication factor 2, one replica on another node. Any coordinator
  takes a key and forwards it to the shard's primary, which acknowledges a
  write only once every in-sync replica has stored it. Every scenario runs
  real `torua coordinator` and `torua node` processes on loopback aliases.

  Scenario: Store, read, update and delete a key
    Given a running cluster of three coordinators and three data nodes
    When the key "greeting" is stored with the value "hello" through a coordinator
    Then reading "greeting" through every coordinator gives "hello"
    When the key "greeting" is stored with the value "hello again"
    Then reading "greeting" through every coordinator gives "hello again"
    When the key "greeting" is deleted
    Then reading "greeting" gives 404
    And reading the key "never-written" gives 404

  Scenario: Keys spread over the shards, and a key always lands on the same shard
    Given a running cluster of three coordinators and three data nodes
    When 64 keys are stored through the coordinators in turn
    Then the keys are held by the primaries of at least 4 different shards
    And each key is held by the primary of the shard its hash names, and by no other node as primary
    And storing a key again through another coordinator updates the same shard

  Scenario: Keys with unusual characters and a large value round-trip exactly
    Given a running cluster of three coordinators and three data nodes
    Then each of these keys stores and returns its value exactly:
      | key              |
      | user@example.com |
      | path/to/x        |
      | a key with spaces |
      | 数字              |
      | 100%-sure?&=#     |
    And a value of 1 MiB of random bytes round-trips exactly
    And an empty key is refused with 400 and a key of 1025 bytes with 400
    And a value larger than the configured maximum is refused with 413

  Scenario: Ten clients write and read their own keys at the same time
    Given a running cluster of three coordinators and three data nodes
    When 10 clients each write 20 keys of their own and read them back concurrently
    Then every client read back exactly what it wrote

  Scenario: The cluster shows where the shards and nodes are
    Given a running cluster of three coordinators and three data nodes
    Then "/shards" lists every shard with a primary and a replica on two different nodes, both in sync
    And "/nodes" lists every node with its address
    And each node's "/info" shows the shards the table gives it, with its role in each

  Scenario: A new node joins and gets shards
    Given a running cluster of three coordinators and three data nodes
    And 30 keys stored through the coordinators
    When a fourth data node is started
    Then it registers and soon holds copies of some shards, in sync
    And every stored key is still readable

  Scenario: A node forced out loses no acknowledged write
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When a node is forced out through "POST /nodes/:id/remove"
    Then the node is gone from "/nodes" and no shard names it
    And every shard again has a primary and a replica in sync
    And every acknowledged key is still readable with its value
    And new keys can be written

  Scenario: A node killed and then removed loses no acknowledged write
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When a node is killed with SIGKILL
    And it is removed through "POST /nodes/:id/remove"
    Then every shard again has a primary and a replica in sync
    And every acknowledged key is still readable with its value
    And new keys can be written

  Scenario: A write with a stale shard epoch is refused
    Given a running cluster of three coordinators and three data nodes
    When a write is sent straight to a shard's primary with an epoch older than the shard's
    Then it is refused with 409 STALE_EPOCH naming the current epoch
    And the key was not written

  Scenario: A draining node hands its shards over without losing a write
    Given a running cluster of three coordinators and three data nodes
    And a writer that keeps storing new keys through every coordinator
    When a node is asked to drain with SIGTERM
    Then the node holds no shard copies any more and exits
    And every shard has a primary and a replica on the two other nodes, in sync
    And every acknowledged key is still readable with its value

  @iptables
  Scenario: A node cut off from the coordinators refuses writes once its lease ends
    Given a running cluster of three coordinators and three data nodes
    When a node that is primary of some shard is cut off from every coordinator by a packet filter
    Then once its lease has run out it refuses writes to that shard with 503 NO_LEASE
    When the packet filter is removed
    Then it takes writes again

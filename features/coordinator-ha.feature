Feature: A highly available coordinator
  Torua's routing table is kept by three coordinator replicas that agree on it
  through Raft. Any replica serves any request; losing, hanging or cutting off
  one replica, the leader included, loses nothing that was acknowledged, and
  replicas can be handed leadership, added and replaced while the cluster runs.
  Every scenario runs real `torua coordinator` processes on loopback aliases.

  Scenario: Three replicas elect a leader
    Given three coordinator replicas started from one cluster file
    Then one of them becomes the leader
    And every replica names that leader in the same term

  Scenario: Writes go through any replica
    Given a running cluster of three coordinator replicas
    When a data node is registered through each replica
    Then every replica lists every registered node
    And every replica reports the same state hash

  Scenario: The leader is killed and a new one takes over without losing acknowledged writes
    Given a running cluster of three coordinator replicas
    And a client that keeps registering new nodes through every replica
    When the leader is killed with SIGKILL
    Then the two others elect a new leader
    And writes are acknowledged again
    When the killed replica is started again
    Then it follows the new leader
    And no acknowledged write is lost

  Scenario: A paused leader steps down when it wakes up
    Given a running cluster of three coordinator replicas
    And a client that keeps registering new nodes through every replica
    When the leader is paused with SIGSTOP for several election timeouts
    Then the two others elect a new leader
    When the paused replica is resumed with SIGCONT
    Then it steps down and follows the new leader
    And no term ever had two leaders
    And no acknowledged write is lost

  @iptables
  Scenario: A leader cut off from the others refuses linearizable reads
    Given a running cluster of three coordinator replicas
    And a client that keeps registering new nodes through every replica
    When the leader is cut off from both followers by a packet filter
    Then the two others elect a new leader
    And the old leader steps down and answers linearizable reads with 503
    And the old leader still answers stale reads and says how stale they are
    When the packet filter is removed
    Then it follows the new leader
    And no acknowledged write is lost

  Scenario: Leadership is handed to another replica
    Given a running cluster of three coordinator replicas
    When an operator asks a follower to hand leadership to the other follower
    Then that replica becomes the leader
    And writes through every replica are acknowledged

  Scenario: A dead replica is replaced by a new one
    Given a running cluster of three coordinator replicas
    And a client that keeps registering new nodes through every replica
    And one follower has died
    When a fourth replica is started to join the cluster
    And the operator adds it as a member
    And the operator removes the dead replica
    Then the members are the two survivors and the new replica
    And no acknowledged write is lost
    And the new set elects a new leader when its leader is killed

#include "protocol/liveness.h"

#include <gtest/gtest.h>

namespace squtun::protocol {
namespace {

constexpr Duration kStart = 1000s;

TEST(LivenessTest, AnAttemptRetriesAfterRekeyTimeoutUntilItsTimeIsUp) {
  Liveness l;
  EXPECT_FALSE(l.handshaking());
  l.on_handshake_initiated(kStart);
  l.on_initiation_sent(kStart);
  EXPECT_TRUE(l.handshaking());
  EXPECT_FALSE(l.initiation_retried());
  EXPECT_FALSE(l.initiation_timed_out(kStart + kRekeyTimeout - 1ns));
  EXPECT_TRUE(l.initiation_timed_out(kStart + kRekeyTimeout));
  EXPECT_EQ(l.on_initiation_unanswered(), 1u);
  l.on_initiation_sent(kStart + kRekeyTimeout);
  EXPECT_TRUE(l.initiation_retried());
  EXPECT_FALSE(l.initiation_timed_out(kStart + kRekeyTimeout));
  EXPECT_FALSE(l.attempt_timed_out(kStart + kRekeyAttemptTime - 1ns));
  EXPECT_TRUE(l.attempt_timed_out(kStart + kRekeyAttemptTime));
  l.on_handshake_abandoned();
  EXPECT_FALSE(l.handshaking());
  EXPECT_FALSE(l.initiation_timed_out(kStart + kRekeyAttemptTime));
}

TEST(LivenessTest, UnansweredInitiationsCountUntilAHandshakeCompletesOrThePeerMoves) {
  Liveness l;
  l.on_handshake_initiated(kStart);
  l.on_initiation_sent(kStart);
  EXPECT_EQ(l.on_initiation_unanswered(), 1u);
  EXPECT_EQ(l.on_initiation_unanswered(), 2u);
  l.on_handshake_completed(Role::Responder);  // the peer's handshake; ours goes on
  EXPECT_TRUE(l.handshaking());
  EXPECT_EQ(l.on_initiation_unanswered(), 1u);
  l.on_peer_moved();
  EXPECT_FALSE(l.handshaking());
  EXPECT_EQ(l.on_initiation_unanswered(), 1u);
  l.on_handshake_initiated(kStart);
  l.on_handshake_completed(Role::Initiator);
  EXPECT_FALSE(l.handshaking());
}

TEST(LivenessTest, DataSentAwaitsAReplyFromItsFirstPacket) {
  Liveness l;
  l.on_data_sent(kStart);
  l.on_data_sent(kStart + 3s);
  EXPECT_FALSE(l.reply_overdue(kStart + kNewHandshakeTimeout - 1ns));
  EXPECT_TRUE(l.reply_overdue(kStart + kNewHandshakeTimeout));
  l.on_authenticated_received();
  EXPECT_FALSE(l.reply_overdue(kStart + 60s));
  l.on_data_sent(kStart + 60s);
  l.on_reply_given_up();
  EXPECT_FALSE(l.reply_overdue(kStart + 120s));
}

TEST(LivenessTest, PassiveKeepaliveAnswersTheFirstUnansweredPacket) {
  Liveness l;
  l.on_inner_packet_received(kStart);
  l.on_inner_packet_received(kStart + 1s);  // the same run: does not push the keepalive back
  EXPECT_FALSE(l.passive_keepalive_due(kStart + kPassiveKeepaliveTimeout - 1ns));
  EXPECT_TRUE(l.passive_keepalive_due(kStart + kPassiveKeepaliveTimeout));
  l.on_message_sent(kStart + kPassiveKeepaliveTimeout);
  EXPECT_FALSE(l.passive_keepalive_due(kStart + 60s));
}

TEST(LivenessTest, PersistentKeepaliveCountsFromTheLastMessageSent) {
  Liveness l;
  EXPECT_FALSE(l.persistent_keepalive_due(kStart, Duration{0}));
  EXPECT_TRUE(l.persistent_keepalive_due(kStart, 10s));  // nothing sent yet
  l.on_message_sent(kStart);
  EXPECT_FALSE(l.persistent_keepalive_due(kStart + 10s - 1ns, 10s));
  EXPECT_TRUE(l.persistent_keepalive_due(kStart + 10s, 10s));
}

}  // namespace
}  // namespace squtun::protocol

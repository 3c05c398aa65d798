#include "cli/options.h"

#include "cli/config_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace squtun::cli {
namespace {

Options parse(std::vector<std::string> args) { return parse_options(args); }

std::string usage_error(std::vector<std::string> args) {
  try {
    parse_options(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(OptionsTest, SquTunReadmeCommandLine) {
  const Options o = parse({"-l", "7778", "-p", "1.2.3.4", "-r", "7777", "-i", "tun0", "-k", "key.txt"});
  EXPECT_EQ(o.action, Options::Action::Run);
  EXPECT_EQ(o.listen_port, 7778);
  EXPECT_EQ(o.peer_host, "1.2.3.4");
  EXPECT_EQ(o.peer_port, 7777);
  EXPECT_EQ(o.interface, "tun0");
  EXPECT_EQ(o.key_file, "key.txt");
  EXPECT_FALSE(o.passive());
  EXPECT_FALSE(o.foreground);
  EXPECT_EQ(o.keepalive_seconds, 0u);
  EXPECT_FALSE(o.clock_skew_seconds);
}

TEST(OptionsTest, SquTunIfupdownLine) {
  const Options o = parse({"-l", "3456", "-p", "18.2.3.4", "-r", "3457", "-i", "tun0", "-k",
                           "/usr/local/etc/squtun/mytunnel.key", "-a", "59", "-c", "30"});
  EXPECT_EQ(o.keepalive_seconds, 59u);
  EXPECT_EQ(o.clock_skew_seconds, 30u);
}

TEST(OptionsTest, LongFormsAndAttachedValues) {
  const Options o = parse({"--listen=7778", "--peer", "2001:2::2", "--peer-port=7777", "--interface", "tun1",
                           "--key=k", "--keepalive", "25", "--clock-skew=10", "--foreground", "--pidfile", "/tmp/p",
                           "--user", "squtun", "--chroot", "/var/empty", "--verbose", "--verbose"});
  EXPECT_EQ(o.listen_port, 7778);
  EXPECT_EQ(o.peer_host, "2001:2::2");
  EXPECT_EQ(o.peer_port, 7777);
  EXPECT_EQ(o.interface, "tun1");
  EXPECT_EQ(o.key_file, "k");
  EXPECT_EQ(o.keepalive_seconds, 25u);
  EXPECT_EQ(o.clock_skew_seconds, 10u);
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.pidfile, "/tmp/p");
  EXPECT_EQ(o.user, "squtun");
  EXPECT_EQ(o.chroot_dir, "/var/empty");
  EXPECT_EQ(o.verbosity, 2);
}

TEST(OptionsTest, ShortClustersAndAttachedShortValues) {
  const Options o = parse({"-fvv", "-l7778", "-itun0", "-kkey", "-u", "nobody"});
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.verbosity, 2);
  EXPECT_EQ(o.listen_port, 7778);
  EXPECT_EQ(o.interface, "tun0");
  EXPECT_EQ(o.key_file, "key");
  EXPECT_EQ(o.user, "nobody");
}

TEST(OptionsTest, PassiveEndOmitsPeer) {
  const Options o = parse({"-l", "7777", "-i", "tun0", "-k", "k", "-q"});
  EXPECT_TRUE(o.passive());
  EXPECT_EQ(o.verbosity, -1);
}

TEST(OptionsTest, ActionsNeedNoTunnelOptions) {
  EXPECT_EQ(parse({"-h"}).action, Options::Action::Help);
  EXPECT_EQ(parse({"--help"}).action, Options::Action::Help);
  EXPECT_EQ(parse({"-V"}).action, Options::Action::Version);
  EXPECT_EQ(parse({"--genkey"}).action, Options::Action::GenerateKey);
  const Options m = parse({"-m", "1500"});
  EXPECT_EQ(m.action, Options::Action::PrintMtu);
  EXPECT_EQ(m.underlay_mtu, 1500u);
}

TEST(OptionsTest, BadPortsNameFlagAndValue) {
  for (const std::string bad : {"0", "70000", "65536", "-1", "abc", "77x", ""}) {
    const std::string message = usage_error({"-l", bad, "-i", "tun0", "-k", "k"});
    EXPECT_NE(message.find("-l"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + bad + "'"), std::string::npos) << message;
  }
  EXPECT_NE(usage_error({"-l", "1", "-p", "h", "-r", "0", "-i", "t", "-k", "k"}).find("-r: '0'"), std::string::npos);
  EXPECT_NE(usage_error({"--listen=70000"}).find("--listen: '70000'"), std::string::npos);
}

TEST(OptionsTest, PortBoundariesAccepted) {
  EXPECT_EQ(parse({"-l", "1", "-i", "t", "-k", "k"}).listen_port, 1);
  EXPECT_EQ(parse({"-l", "65535", "-i", "t", "-k", "k"}).listen_port, 65535);
}

TEST(OptionsTest, BadSecondsRefused) {
  EXPECT_NE(usage_error({"-a", "-1"}).find("-a: '-1'"), std::string::npos);
  EXPECT_NE(usage_error({"-a", "86401"}).find("-a: '86401'"), std::string::npos);
  EXPECT_NE(usage_error({"-c", "0"}).find("-c: '0'"), std::string::npos);
  EXPECT_NE(usage_error({"-c", "x"}).find("-c: 'x'"), std::string::npos);
  EXPECT_EQ(parse({"-a", "0", "-l", "1", "-i", "t", "-k", "k"}).keepalive_seconds, 0u);
}

TEST(OptionsTest, BadMtuRefused) {
  EXPECT_NE(usage_error({"-m", "0"}).find("-m: '0'"), std::string::npos);
  EXPECT_NE(usage_error({"-m", "70000"}).find("-m: '70000'"), std::string::npos);
}

TEST(OptionsTest, DeviceAddressesRoutesAndMtu) {
  const Options o = parse({"-l", "1", "-p", "198.18.0.2", "-r", "2", "-i", "t", "-k", "k", "--address", "10.99.0.1/30",
                           "--address=fd00::1/64", "--route", "10.77.0.0/24", "--tun-mtu", "auto"});
  ASSERT_EQ(o.addresses.size(), 2u);
  EXPECT_EQ(o.addresses[0].to_string(), "10.99.0.1/30");
  EXPECT_EQ(o.addresses[1].to_string(), "fd00::1/64");
  ASSERT_EQ(o.routes.size(), 1u);
  EXPECT_EQ(o.routes[0].to_string(), "10.77.0.0/24");
  EXPECT_EQ(o.device_mtu, daemon::kAutoMtu);
  EXPECT_EQ(parse({"-l", "1", "-i", "t", "-k", "k", "--tun-mtu", "1400"}).device_mtu, 1400u);
  EXPECT_FALSE(parse({"-l", "1", "-i", "t", "-k", "k"}).device_mtu);
}

TEST(OptionsTest, BadDeviceSettingsNameOptionAndValue) {
  EXPECT_EQ(usage_error({"--address", "10.99.0.1/33"}), "--address: '10.99.0.1/33': the prefix length must be 0 to 32");
  EXPECT_EQ(usage_error({"--address=fd00::1/129"}), "--address: 'fd00::1/129': the prefix length must be 0 to 128");
  EXPECT_NE(usage_error({"--address", "10.99.0.1"}).find("--address: '10.99.0.1': no /PREFIX"), std::string::npos);
  EXPECT_NE(usage_error({"--route", "10.77.0.1/24"}).find("--route: '10.77.0.1/24': bits are set beyond"),
            std::string::npos);
  EXPECT_NE(usage_error({"--route", "tun.example/24"}).find("is not an IPv4 or IPv6 address"), std::string::npos);
  EXPECT_EQ(usage_error({"--tun-mtu", "67"}), "--tun-mtu: '67' is not auto or an MTU (68 to 65535)");
  EXPECT_NE(usage_error({"--tun-mtu", "Auto"}).find("--tun-mtu: 'Auto'"), std::string::npos);
  EXPECT_NE(usage_error({"-l", "1", "-i", "t", "-k", "k", "--tun-mtu", "auto"}).find("mtu auto needs -p HOST, whose path"),
            std::string::npos);
}

TEST(OptionsTest, ConfigFileMtuIsTheDeviceMtuNotTheMinusM) {
  const Options o = parse(config_arguments("listen = 1\ninterface = t\nkey = k\nmtu = 1380\n"
                                           "address = 10.99.0.1/30\naddress = fd00::1/64\nroute = 10.77.0.0/24\n",
                                           "f"));
  EXPECT_EQ(o.action, Options::Action::Run);
  EXPECT_EQ(o.device_mtu, 1380u);
  EXPECT_EQ(o.addresses.size(), 2u);
  EXPECT_EQ(o.routes.size(), 1u);
}

TEST(OptionsTest, MissingRequiredOptionsNamed) {
  EXPECT_NE(usage_error({"-i", "tun0", "-k", "k"}).find("-l"), std::string::npos);
  EXPECT_NE(usage_error({"-l", "1", "-k", "k"}).find("-i"), std::string::npos);
  EXPECT_NE(usage_error({"-l", "1", "-i", "tun0"}).find("-k"), std::string::npos);
}

TEST(OptionsTest, PeerAndPeerPortGoTogether) {
  EXPECT_NE(usage_error({"-l", "1", "-i", "t", "-k", "k", "-p", "198.18.0.2"}).find("needs -r"), std::string::npos);
  EXPECT_NE(usage_error({"-l", "1", "-i", "t", "-k", "k", "-r", "7777"}).find("needs -p"), std::string::npos);
}

TEST(OptionsTest, UnknownAndMalformedArguments) {
  EXPECT_NE(usage_error({"-x"}).find("unknown option '-x'"), std::string::npos);
  EXPECT_NE(usage_error({"--nope"}).find("unknown option '--nope'"), std::string::npos);
  EXPECT_NE(usage_error({"stray"}).find("unexpected argument 'stray'"), std::string::npos);
  EXPECT_NE(usage_error({"-l"}).find("-l needs a value"), std::string::npos);
  EXPECT_NE(usage_error({"--foreground=yes"}).find("takes no value"), std::string::npos);
  EXPECT_NE(usage_error({"-k", ""}).find("-k: the value is empty"), std::string::npos);
}

TEST(OptionsTest, HelpNamesEveryOption) {
  const std::string help = usage_text();
  for (const char* flag : {"-l,", "--listen", "-p,", "--peer ", "-r,", "--peer-port", "-i,", "--interface", "-k,",
                           "--key", "-a,", "--keepalive", "-c,", "--clock-skew", "-m,", "--mtu", "-f,", "--foreground",
                           "--pidfile", "-u,", "--user", "--chroot", "-v,", "--verbose", "-q,", "--quiet", "--genkey",
                           "-V,", "--version", "-h,", "--help", "--tap", "--no-offload", "--config"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find("60"), std::string::npos) << "help must say which overhead -m subtracts";
}

TEST(OptionsTest, BindTakesOneLocalAddress) {
  EXPECT_FALSE(parse({"-l", "1", "-i", "t", "-k", "k"}).bind_address);
  EXPECT_EQ(parse({"-l", "1", "-i", "t", "-k", "k", "-b", "198.18.0.1"}).bind_address, "198.18.0.1");
  EXPECT_EQ(parse({"-l", "1", "-i", "t", "-k", "k", "--bind", "2001:2::1"}).bind_address, "2001:2::1");
  EXPECT_EQ(parse({"-l", "1", "-i", "t", "-k", "k", "--bind=fe80::1%lo"}).bind_address, "fe80::1%lo");
  EXPECT_EQ(parse({"-m", "1500", "-b", "2001:2::1"}).bind_address, "2001:2::1");
  // An address of either family with a peer of the same family, or a peer by name.
  EXPECT_NO_THROW(parse({"-l", "1", "-i", "t", "-k", "k", "-b", "2001:2::1", "-p", "2001:2::2", "-r", "2"}));
  EXPECT_NO_THROW(parse({"-l", "1", "-i", "t", "-k", "k", "-b", "198.18.0.1", "-p", "peer.squtun.test", "-r", "2"}));
}

TEST(OptionsTest, BindRefusesNamesAndTheOtherFamily) {
  // Names are not looked up for -b: the address must be one of this host's.
  EXPECT_NE(usage_error({"-l", "1", "-i", "t", "-k", "k", "-b", "localhost"}).find("-b: 'localhost' is not an IPv4 or IPv6 address"),
            std::string::npos);
  EXPECT_NE(usage_error({"-b", "198.18.0.1:7777"}).find("-b: '198.18.0.1:7777'"), std::string::npos);
  EXPECT_NE(usage_error({"--bind", ""}).find("--bind: ''"), std::string::npos);
  const std::string mixed = usage_error({"-l", "1", "-i", "t", "-k", "k", "-b", "198.18.0.1", "-p", "2001:2::2", "-r", "2"});
  EXPECT_NE(mixed.find("-b 198.18.0.1 is an IPv4 address and cannot reach the IPv6 peer -p 2001:2::2"), std::string::npos)
      << mixed;
  EXPECT_NE(usage_error({"-l", "1", "-i", "t", "-k", "k", "-b", "2001:2::1", "-p", "198.18.0.2", "-r", "2"}).find("IPv6"),
            std::string::npos);
}

TEST(OptionsTest, BindIsAConfigFileSetting) {
  std::vector<std::string> args = config_arguments("bind = 2001:2::1\nlisten = 7777\n", "tun0.conf");
  args.insert(args.end(), {"-i", "t", "-k", "k"});
  EXPECT_EQ(parse_options(args).bind_address, "2001:2::1");
}

TEST(OptionsTest, HelpExplainsBindAndNamesInMtu) {
  const std::string help = usage_text();
  EXPECT_NE(help.find("-b, --bind ADDRESS"), std::string::npos);
  EXPECT_NE(help.find("again whenever handshakes go unanswered"), std::string::npos);
  EXPECT_NE(help.find("A host name -p is not looked up"), std::string::npos);
}

TEST(OptionsTest, TapSelectsEthernetFrames) {
  EXPECT_FALSE(parse({"-l", "1", "-i", "tap0", "-k", "k"}).tap);
  EXPECT_TRUE(parse({"-l", "1", "-i", "tap0", "-k", "k", "--tap"}).tap);
  EXPECT_TRUE(parse({"-m", "1500", "--tap"}).tap);
}

TEST(OptionsTest, OffloadIsOnUnlessRefused) {
  EXPECT_TRUE(parse({"-l", "1", "-i", "t", "-k", "k"}).offload);
  EXPECT_FALSE(parse({"-l", "1", "-i", "t", "-k", "k", "--no-offload"}).offload);
  EXPECT_THROW(parse({"-l", "1", "-i", "t", "-k", "k", "--no-offload=yes"}), UsageError);
}

TEST(OptionsTest, DefaultPidfileIsSquTunsPath) {
  EXPECT_EQ(default_pidfile("tun0"), "/var/run/squtun/squtun-tun0.pid");
}

}  // namespace
}  // namespace squtun::cli

namespace squtun::cli {
namespace {

TEST(OptionsShowTest, ShowTakesTheInterface) {
  const std::vector<std::string> args{"show", "tun0", "--pidfile", "/tmp/x.pid"};
  const Options o = parse_options(args);
  EXPECT_EQ(o.action, Options::Action::Show);
  EXPECT_EQ(o.interface, "tun0");
  EXPECT_EQ(o.pidfile, "/tmp/x.pid");
  const std::vector<std::string> missing{"show"};
  EXPECT_THROW(parse_options(missing), UsageError);
}

TEST(OptionsTest, FingerprintTakesAKeyFileAndNoEmptyValue) {
  const Options o = parse({"--fingerprint", "site.key"});
  EXPECT_EQ(o.action, Options::Action::Fingerprint);
  EXPECT_EQ(o.key_file, "site.key");
  // Found by fuzz_options: the empty value went through and left no key file to read.
  EXPECT_THROW(parse({"--fingerprint", ""}), UsageError);
}

}  // namespace
}  // namespace squtun::cli

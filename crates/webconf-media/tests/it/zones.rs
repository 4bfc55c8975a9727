//! Network zones with their own media addresses (issue 7): each participant is offered only
//! its zone's addresses, and its packets reaching another zone's address are dropped and
//! counted, while the others' media is unaffected. Such a packet changes nothing: a STUN
//! binding request reaching another zone's address binds no address pair (nor takes one).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use str0m::media::MediaKind;
use webconf_media::{Protocol, SfuError};

use crate::harness::{binding_request, ice_credentials, stream_of, udp_candidates, World};

/// The internal zone's server address.
const INTERNAL: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
/// The internet zone's server address.
const PUBLIC: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn all_candidate_ips(sdp: &str) -> Vec<IpAddr> {
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
        .collect()
}

/// A bogus SRTP packet: whoever gets it drops it, but it shows where its address pair goes.
const JUNK_RTP: [u8; 12] = [0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];

/// A call with an agent (internal zone) and a guest (internet zone), both connected.
fn call_across_zones() -> (World, usize, usize) {
    let mut w = World::new();
    w.zone_addresses = Some(vec![INTERNAL]);
    let agent = w.join(1);
    w.zone_addresses = Some(vec![PUBLIC]);
    let guest = w.join(1);
    w.zone_addresses = None;
    (w, agent, guest)
}

fn frames(w: &World, me: usize, other: usize) -> (u64, u64) {
    let c = &w.clients[me];
    (
        c.frames_from(&stream_of(other), MediaKind::Audio),
        c.frames_from(&stream_of(other), MediaKind::Video),
    )
}

#[test]
fn each_zone_gets_its_own_address_and_foreign_packets_are_dropped() {
    let (mut w, agent, guest) = call_across_zones();

    // Each answer offers only its zone's address (UDP and the ICE-TCP one).
    for (i, ip) in [(agent, INTERNAL), (guest, PUBLIC)] {
        let ips = all_candidate_ips(&w.clients[i].answer);
        assert!(
            ips.len() >= 2,
            "udp and tcp candidates: {}",
            w.clients[i].answer
        );
        assert!(ips.iter().all(|a| *a == ip), "client {i} offered {ips:?}");
    }

    w.run_for(Duration::from_secs(4));
    assert!(w.clients[agent].connected && w.clients[guest].connected);
    for (me, other) in [(agent, guest), (guest, agent)] {
        let (audio, video) = frames(&w, me, other);
        assert!(
            audio > 50 && video > 20,
            "client {me} got {audio} audio, {video} video frames"
        );
    }
    assert_eq!(
        w.sfu.foreign_zone_drops(),
        0,
        "no drop in a well-behaved call"
    );

    // The guest (internet zone) sends a STUN request with its own ufrag to the internal
    // address, on the port it was given: nothing comes back, the drop is counted. Its integrity
    // is wrong: the zone is checked first, so it counts as a foreign packet.
    let guest_sdp = w.clients[guest].answer.clone();
    let port = udp_candidates(&guest_sdp)[0].port();
    let foreign = SocketAddr::new(INTERNAL, port);
    let guest_addr = w.clients[guest].addr;
    let username = format!("{}:client", ice_credentials(&guest_sdp).0);
    w.sfu
        .handle_packet(
            w.now,
            Protocol::Udp,
            guest_addr,
            foreign,
            &binding_request(&username, Some("wrong")),
        )
        .expect("routed to the guest, then dropped");
    assert_eq!(w.sfu.foreign_zone_drops(), 1);
    assert_eq!(
        w.sfu.unauthenticated_stun_drops(),
        0,
        "the zone is checked before the integrity"
    );
    // The request bound nothing: another packet on that address pair (a DTLS record, say)
    // belongs to no one.
    let r = w.sfu.handle_packet(
        w.now,
        Protocol::Udp,
        guest_addr,
        foreign,
        &[22, 254, 253, 0, 0],
    );
    assert!(matches!(r, Err(SfuError::Unroutable(_))), "{r:?}");
    assert_eq!(w.sfu.foreign_zone_drops(), 1);
    let mut answered = 0;
    while let Some(out) = w.sfu.poll_output() {
        if let webconf_media::SfuOutput::Transmit {
            source,
            destination,
            ..
        } = out
        {
            if source.ip() == INTERNAL && destination == guest_addr {
                answered += 1;
            }
        }
    }
    assert_eq!(
        answered, 0,
        "nothing may leave the internal address toward the guest"
    );

    // The call goes on for both.
    let before = [frames(&w, agent, guest), frames(&w, guest, agent)];
    w.run_for(Duration::from_secs(2));
    let after = [frames(&w, agent, guest), frames(&w, guest, agent)];
    for k in 0..2 {
        assert!(
            after[k].0 > before[k].0 + 50 && after[k].1 > before[k].1 + 20,
            "{before:?} -> {after:?}"
        );
    }
    assert_eq!(w.sfu.foreign_zone_drops(), 1);
}

#[test]
fn a_valid_binding_request_on_a_foreign_address_binds_nothing_and_takes_no_pair() {
    let (mut w, agent, guest) = call_across_zones();
    w.run_for(Duration::from_secs(3));
    assert!(w.clients[agent].connected && w.clients[guest].connected);

    // A request carrying the guest's ufrag and proving its password (the guest knows both).
    let (ufrag, pwd) = ice_credentials(&w.clients[guest].answer);
    let request = binding_request(&format!("{ufrag}:client"), Some(&pwd));

    // From the guest's address to the internal address: dropped, counted, and the pair is not
    // bound (a later packet on it belongs to no one).
    let guest_addr = w.clients[guest].addr;
    let foreign = SocketAddr::new(INTERNAL, udp_candidates(&w.clients[guest].answer)[0].port());
    w.sfu
        .handle_packet(w.now, Protocol::Udp, guest_addr, foreign, &request)
        .expect("dropped as foreign");
    assert_eq!(w.sfu.foreign_zone_drops(), 1);
    let r = w
        .sfu
        .handle_packet(w.now, Protocol::Udp, guest_addr, foreign, &JUNK_RTP);
    assert!(
        matches!(r, Err(SfuError::Unroutable(_))),
        "the foreign request bound its pair: {r:?}"
    );
    assert_eq!(w.sfu.foreign_zone_drops(), 1);

    // Forged from the agent's address to the agent's own server socket (an internal address,
    // foreign to the guest): the agent's pair stays the agent's, its packets are not foreign.
    let agent_addr = w.clients[agent].addr;
    let agent_server = udp_candidates(&w.clients[agent].answer)[0];
    assert_eq!(agent_server.ip(), INTERNAL);
    w.sfu
        .handle_packet(w.now, Protocol::Udp, agent_addr, agent_server, &request)
        .expect("dropped as foreign");
    assert_eq!(w.sfu.foreign_zone_drops(), 2);
    w.sfu
        .handle_packet(w.now, Protocol::Udp, agent_addr, agent_server, &JUNK_RTP)
        .expect("still the agent's pair");
    assert_eq!(
        w.sfu.foreign_zone_drops(),
        2,
        "the agent's packet went to the guest"
    );

    // The same forgery every 5 ms for 2 s: the agent's media keeps flowing both ways.
    let before = [frames(&w, agent, guest), frames(&w, guest, agent)];
    let steps = 400;
    for _ in 0..steps {
        w.sfu
            .handle_packet(w.now, Protocol::Udp, agent_addr, agent_server, &request)
            .expect("dropped as foreign");
        w.run_for(Duration::from_millis(5));
    }
    let after = [frames(&w, agent, guest), frames(&w, guest, agent)];
    for k in 0..2 {
        assert!(
            after[k].0 > before[k].0 + 50 && after[k].1 > before[k].1 + 20,
            "{before:?} -> {after:?}"
        );
    }
    assert_eq!(w.sfu.foreign_zone_drops(), 2 + steps);
    assert_eq!(w.sfu.unauthenticated_stun_drops(), 0);
}

#[test]
fn a_peer_without_zone_addresses_is_refused() {
    let now = std::time::Instant::now();
    let mut sfu = webconf_media::Sfu::new(webconf_media::SfuConfig::default());
    let r = sfu.add_peer_with_addresses(
        now,
        webconf_media::PeerId(1),
        webconf_media::RoomId(1),
        "s".into(),
        &[],
    );
    assert!(
        matches!(r, Err(webconf_media::SfuError::NoLocalAddress)),
        "{r:?}"
    );
    assert!(!sfu.has_peer(webconf_media::PeerId(1)));
}

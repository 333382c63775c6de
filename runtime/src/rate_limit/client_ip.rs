//! The address an anonymous call is counted against: the peer, or, when the peer is a proxy the
//! operator trusts, the client it forwarded for (`X-Forwarded-For`).
//!
//! Only addresses the trusted proxies appended can be believed: the header is read from the
//! right, each trusted hop is skipped, and the first address that is not a trusted proxy is the
//! client. Anything left of it was written by that client and is ignored, so a caller cannot pick
//! its own bucket by sending the header itself. An entry that is not an IP address ends the walk
//! at the hop that forwarded it.

use std::fmt;
use std::net::IpAddr;

use http::HeaderMap;

/// One address range, `10.0.0.0/8` or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().ok()?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p.trim().parse().ok().filter(|p| *p <= bits)?,
        };
        Some(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(prefix);
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` entries are believed (`RATE_LIMIT_TRUSTED_PROXIES`).
/// Empty by default: the peer address is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges
    /// (`10.0.0.0/8, 192.168.1.7, fd00::/8`); `None` if any entry is not one.
    pub fn parse(list: &str) -> Option<Self> {
        list.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(IpRange::parse)
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client behind `peer`, read from the request's `X-Forwarded-For` headers when `peer`
    /// is a trusted proxy; `peer` otherwise.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        // Rightmost first: the last header's last entry was appended by the nearest proxy.
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
        let mut client = peer;
        for entry in entries {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip.to_canonical(),
                Ok(ip) => return Some(ip.to_canonical()),
                Err(_) => break,
            }
        }
        Some(client)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            range.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn ranges_parse_and_match() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,fd00::/8").unwrap();
        assert_eq!(proxies.to_string(), "10.0.0.0/8,192.168.1.7/32,fd00::/8");
        assert!(proxies.trusts(ip("10.200.3.4")));
        assert!(proxies.trusts(ip("::ffff:10.1.1.1")), "IPv4-mapped peers");
        assert!(proxies.trusts(ip("192.168.1.7")));
        assert!(!proxies.trusts(ip("192.168.1.8")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(!proxies.trusts(ip("fe80::1")));
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .trusts(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "proxy.local",
            "10.0.0.0/x",
            "10.0.0/8",
        ] {
            assert_eq!(TrustedProxies::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let headers = forwarded(&["1.2.3.4"]);
        assert_eq!(
            proxies.client_ip(Some(ip("203.0.113.9")), &headers),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            TrustedProxies::default().client_ip(Some(ip("10.0.0.1")), &headers),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(proxies.client_ip(None, &headers), None);
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = Some(ip("10.0.0.1"));
        // The client claimed 6.6.6.6 itself; the proxies appended what they saw.
        let headers = forwarded(&["6.6.6.6, 198.51.100.2", "10.1.2.3"]);
        assert_eq!(proxies.client_ip(peer, &headers), Some(ip("198.51.100.2")));
        // Only trusted hops: the leftmost of them.
        assert_eq!(
            proxies.client_ip(peer, &forwarded(&["10.9.9.9, 10.1.1.1"])),
            Some(ip("10.9.9.9"))
        );
        // No header: the proxy itself.
        assert_eq!(
            proxies.client_ip(peer, &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
        // Garbage ends the walk at the hop that forwarded it.
        assert_eq!(
            proxies.client_ip(peer, &forwarded(&["1.2.3.4, unknown, 10.4.4.4"])),
            Some(ip("10.4.4.4"))
        );
        // IPv6 clients.
        assert_eq!(
            proxies.client_ip(peer, &forwarded(&["2001:db8::7"])),
            Some(ip("2001:db8::7"))
        );
    }
}

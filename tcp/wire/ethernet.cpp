#include "tcp/wire/ethernet.hpp"

#include <algorithm>
#include <cstring>

#include "tcp/wire/bytes.hpp"

namespace tcpfp::wire {

Result<EthernetFrame> parse_ethernet(std::span<const std::uint8_t> frame, VlanPolicy policy) {
    // Every path returns this one object, so it is built in the caller's
    // result (NRVO): a local copied into the Result afterwards was read back
    // with 16-byte loads over the narrow stores that had just written it, a
    // store-forwarding stall on every frame.
    Result<EthernetFrame> r{EthernetFrame{}};
    if (frame.size() < kEthHeaderLen) {
        r = WireError::eth_truncated;
        return r;
    }
    EthernetFrame& f = r.value();
    std::copy_n(frame.data(), 6, f.dst.bytes.begin());
    std::copy_n(frame.data() + 6, 6, f.src.bytes.begin());
    std::size_t off = 12;
    std::uint16_t type = load_be16(frame.data() + off);
    while (type == ethertype::vlan || type == ethertype::qinq) {
        WireError e = WireError::none;
        if (policy == VlanPolicy::drop) {
            e = WireError::eth_vlan_dropped;
        } else if (f.vlan_tags == 2) {
            e = WireError::eth_vlan_too_deep;
        } else if (frame.size() < off + 2 + kVlanTagLen) {
            // Tag: TPID (already read), TCI, then the next EtherType.
            e = WireError::eth_truncated;
        }
        if (e != WireError::none) {
            r = e;
            return r;
        }
        f.vlan_tci = load_be16(frame.data() + off + 2);
        ++f.vlan_tags;
        off += kVlanTagLen;
        type = load_be16(frame.data() + off);
    }
    f.ethertype = type;
    f.header_len = static_cast<std::uint16_t>(off + 2);
    f.payload = frame.subspan(f.header_len);
    return r;
}

Result<std::size_t> emit_ethernet(const EthernetRepr& repr, std::span<std::uint8_t> out) {
    if (out.size() < kEthHeaderLen) return WireError::buffer_too_small;
    // memcpy, not std::copy: the copy cannot overlap, and std::copy of six
    // bytes became two calls to memmove() per frame sent (session 22).
    std::memcpy(out.data(), repr.dst.bytes.data(), 6);
    std::memcpy(out.data() + 6, repr.src.bytes.data(), 6);
    store_be16(out.data() + 12, repr.ethertype);
    return kEthHeaderLen;
}

}  // namespace tcpfp::wire

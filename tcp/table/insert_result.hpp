// Outcome of inserting into a fixed-capacity table (connections, listeners).
#pragma once

namespace tcpfp::tcp {

enum class InsertResult {
    inserted,
    exists,  // the key is already present; the table is unchanged
    full,    // size() == max entries; the table is unchanged
};

}  // namespace tcpfp::tcp

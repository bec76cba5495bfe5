// The price table as JSON: what `PUT /v1/prices` takes, `GET /v1/prices` answers and
// `fastgpu sim --prices FILE.json` reads (the store keeps the table in typed columns).
//
//   {"gpu_hour": {"H100-80GB": "2.49", "A100-80GB": "1.80"},  // dollars per GPU-hour
//    "default_gpu_hour": "0",    // models not listed; default free
//    "cpu_hour": "0.04",         // per core-hour; default 0
//    "gib_hour": "0.005",        // per GiB-hour of main memory; default 0
//    "minimum_seconds": 60}      // minimum billed seconds per usage record; default 0
//
// Dollar amounts are strings or numbers with at most 5 decimals (kept exact, as
// millicents). Every field is optional; unknown fields are refused. Pure functions;
// thread-safe.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "metering/pricing.h"

namespace fastgpu::metering {

// Decodes and validates a table. InvalidArgument naming the field for a wrong type, a
// malformed or negative amount, an unknown field or a bad model name.
Result<PriceTable> PriceTableFromJson(const boost::json::value& value);
// From JSON text (InvalidArgument when it does not parse).
Result<PriceTable> ParsePriceTable(std::string_view text);

// The table in the form above, amounts as dollar strings ("2.49").
boost::json::object PriceTableToJson(const PriceTable& prices);

// "2.49", "0.00005", "0" from millicents (trailing zeros dropped, at least 2 decimals
// when there is a fraction).
std::string FormatMillicentsAsDollars(int64_t millicents);

}  // namespace fastgpu::metering

// JSON text with plain decimals.
//
// Boost.JSON writes every double in exponent form ("1.6666E-2", "0E0"), which people and
// many tools read badly. JsonText writes the same document with each double as a plain
// decimal: the shortest digits that read back as the same double, never an exponent, and
// always with a decimal point ("0.016666", "0.0", "2.5"); a NaN or infinity (which JSON
// cannot hold) as null. Integers, strings and structure are as json::serialize writes
// them. Used for every JSON the API answers and the CLI prints, so money-adjacent figures
// (GPU-hours, prices, shares) read as they are. Pure; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>

namespace fastgpu::metering {

std::string JsonText(const boost::json::value& value);

// One double as JsonText writes it.
std::string PlainDecimal(double value);

}  // namespace fastgpu::metering

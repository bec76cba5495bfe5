// A small JSON Schema validator for the OpenAPI tests (openapi_test.cpp): just the keywords
// the document uses, so that a live answer can be checked against its documented schema.
//
// Checked: type (a name or a list of names; "integer" is a number without a fraction),
// properties, required, items, enum, additionalProperties (false or a schema), minimum,
// maximum, maxLength and "$ref" to "#/..." inside the document. Annotations (description,
// format, title, example, examples, default) are skipped. Any other keyword is reported as
// unsupported rather than ignored, so a schema can never pass by using a keyword this
// validator does not check. Pure functions; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace fastgpu::server::testing {

// The problems of `value` against `schema`, each "<path>: <what>" with the path from "$"
// ("$.jobs[0].state: \"lost\" is not one of [...]"); empty when it validates. `root` is the
// document "$ref"s point into.
std::vector<std::string> CheckJsonSchema(const boost::json::value& value,
                                         const boost::json::value& schema,
                                         const boost::json::value& root);

// The value a "#/a/b" reference names in `root`; nullptr when it names nothing.
const boost::json::value* ResolveRef(const boost::json::value& root, std::string_view ref);

}  // namespace fastgpu::server::testing

#include "server/json_schema_test_util.h"

#include <cmath>
#include <set>

namespace fastgpu::server::testing {

namespace json = boost::json;

namespace {

const std::set<std::string, std::less<>> kAnnotations = {"description", "format",   "title",
                                                         "example",     "examples", "default"};

bool HasType(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::trunc(v.as_double()) == v.as_double();
  }
  return false;
}

class Checker {
 public:
  explicit Checker(const json::value& root) : root_(root) {}

  void Check(const json::value& v, const json::value& schema, const std::string& path,
             int depth = 0) {
    if (depth > 64) return Fail(path, "schema nests too deep (a $ref cycle?)");
    if (!schema.is_object()) return Fail(path, "the schema is not an object");
    const json::object& s = schema.as_object();
    if (const json::value* ref = s.if_contains("$ref")) {
      const json::value* target = ref->is_string() ? ResolveRef(root_, ref->as_string()) : nullptr;
      if (target == nullptr) return Fail(path, "unresolved $ref " + json::serialize(*ref));
      Check(v, *target, path, depth + 1);
    }
    for (const auto& kv : s) {
      const std::string_view key = kv.key();
      const json::value& arg = kv.value();
      if (key == "$ref" || kAnnotations.contains(key)) continue;
      if (key == "type") {
        Type(v, arg, path);
      } else if (key == "enum") {
        Enum(v, arg, path);
      } else if (key == "properties") {
        if (!v.is_object() || !arg.is_object()) continue;
        for (const auto& p : arg.as_object()) {
          if (const json::value* field = v.as_object().if_contains(p.key())) {
            Check(*field, p.value(), path + "." + std::string(p.key()), depth + 1);
          }
        }
      } else if (key == "required") {
        if (!v.is_object() || !arg.is_array()) continue;
        for (const json::value& name : arg.as_array()) {
          if (name.is_string() && !v.as_object().contains(name.as_string())) {
            Fail(path, "misses the required field \"" + std::string(name.as_string()) + "\"");
          }
        }
      } else if (key == "additionalProperties") {
        if (!v.is_object()) continue;
        const json::object* props = s.contains("properties") && s.at("properties").is_object()
                                        ? &s.at("properties").as_object()
                                        : nullptr;
        for (const auto& field : v.as_object()) {
          if (props != nullptr && props->contains(field.key())) continue;
          const std::string where = path + "." + std::string(field.key());
          if (arg.is_bool()) {
            if (!arg.as_bool()) Fail(where, "is not a documented field");
          } else {
            Check(field.value(), arg, where, depth + 1);
          }
        }
      } else if (key == "items") {
        if (!v.is_array()) continue;
        for (size_t i = 0; i < v.as_array().size(); ++i) {
          Check(v.as_array()[i], arg, path + "[" + std::to_string(i) + "]", depth + 1);
        }
      } else if (key == "minimum" || key == "maximum") {
        if (!v.is_number() || !arg.is_number()) continue;
        const double x = v.to_number<double>(), bound = arg.to_number<double>();
        if (key == "minimum" ? x < bound : x > bound) {
          Fail(path, json::serialize(v) + " is " + (key == "minimum" ? "below " : "above ") +
                         json::serialize(arg));
        }
      } else if (key == "maxLength") {
        if (!v.is_string() || !arg.is_number()) continue;
        if (static_cast<double>(v.as_string().size()) > arg.to_number<double>()) {
          Fail(path, "is longer than " + json::serialize(arg));
        }
      } else {
        Fail(path, "unsupported schema keyword \"" + std::string(key) + "\"");
      }
    }
  }

  std::vector<std::string> problems;

 private:
  void Fail(const std::string& path, const std::string& what) {
    problems.push_back(path + ": " + what);
  }

  void Type(const json::value& v, const json::value& arg, const std::string& path) {
    std::vector<std::string_view> types;
    if (arg.is_string()) types.push_back(arg.as_string());
    if (arg.is_array()) {
      for (const json::value& t : arg.as_array()) {
        if (t.is_string()) types.push_back(t.as_string());
      }
    }
    for (std::string_view t : types) {
      if (HasType(v, t)) return;
    }
    Fail(path, json::serialize(v) + " is not of type " + json::serialize(arg));
  }

  void Enum(const json::value& v, const json::value& arg, const std::string& path) {
    if (!arg.is_array()) return Fail(path, "enum is not an array");
    for (const json::value& e : arg.as_array()) {
      if (e == v) return;
    }
    Fail(path, json::serialize(v) + " is not one of " + json::serialize(arg));
  }

  const json::value& root_;
};

}  // namespace

const json::value* ResolveRef(const json::value& root, std::string_view ref) {
  if (!ref.starts_with("#/")) return nullptr;
  const json::value* at = &root;
  size_t i = 2;
  while (i <= ref.size()) {
    size_t slash = ref.find('/', i);
    if (slash == std::string_view::npos) slash = ref.size();
    std::string_view name = ref.substr(i, slash - i);
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(name);
    if (at == nullptr) return nullptr;
    i = slash + 1;
  }
  return at;
}

std::vector<std::string> CheckJsonSchema(const json::value& value, const json::value& schema,
                                         const json::value& root) {
  Checker c(root);
  c.Check(value, schema, "$");
  return std::move(c.problems);
}

}  // namespace fastgpu::server::testing

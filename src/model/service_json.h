// The JSON form of services (model/service.h), in the manner of model/json.h: one place
// names, types and range-checks each field, for the API, the store's JSON column and the CLI.
//
//   ServiceReadiness {"http": "/path"} or {"tcp": true}
//   ServiceSpec {"name","command","env","shape","port","readiness","min_replicas",
//                "max_replicas","target_rps","target_gpu_util","idle_timeout_s",
//                "scale_down_delay_s","image","run_as_root"}; name and command required;
//                readiness written only when set, run_as_root only when true
//   Service     the spec under "spec" plus {"id","tenant_id","name","replicas","generation",
//                "state","reason","replica_jobs","created_at","updated_at"} (encode only)
// Times are Unix milliseconds. Decoders are strict (wrong types and ranges are errors
// naming the field's path); they do not apply defaults beyond the struct's own nor
// validate across fields (ApplyServiceDefaults, ValidateServiceSpec). Pure, thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "common/result.h"
#include "model/json.h"
#include "model/service.h"

namespace fastgpu::model {

Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  ServiceReadiness& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  ServiceSpec& out);

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v,
                const ServiceReadiness& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const ServiceSpec& s);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Service& s);

}  // namespace fastgpu::model

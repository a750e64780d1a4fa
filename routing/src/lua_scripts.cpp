#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {

const std::string library_prefix = "pasokh_";

// A script's function in the library of this tag (what FCALL names).
std::string function_name(const char* script_name, const std::string& tag) { return std::string(script_name) + "_" + tag; }

// Each script becomes function(keys, args); its top-level code is the
// function's body, which begins with begin_call (prelude.lua).
std::string library_code(const std::string& tag) {
  std::string code = std::string(lua::prelude) + "\n" + lua::routing_lib + "\n";
  for (const auto& f : lua::functions)
    code += "redis.register_function('" + function_name(f.name, tag) + "', function(keys, args)\nbegin_call(keys, args)\n" +
            *f.body + "\nend)\n";
  return code;
}

const std::string& library_tag() {
  // Hashed with a fixed tag: the tag cannot be part of what it names.
  static const std::string tag = store::sha1_hex(library_code("")).substr(0, 12);
  return tag;
}

}  // namespace

const store::lua_library& script_library() {
  static const store::lua_library library(library_prefix + library_tag(), library_code(library_tag()));
  return library;
}

const store::lua_script& script(const char* body) {
  static const auto scripts = [] {
    std::map<const char*, store::lua_script> out;
    for (const auto& f : lua::functions)
      out.emplace(*f.body, store::lua_script(script_library(), function_name(f.name, library_tag())));
    return out;
  }();
  auto found = scripts.find(body);
  if (found == scripts.end()) throw std::logic_error("routing::script: not one of lua::functions");
  return found->second;
}

boost::asio::awaitable<store::result<void>> load_script_library(store::redis_client& redis) {
  const auto& library = script_library();
  auto loaded = co_await redis.load(library);
  if (!loaded) co_return loaded.error();
  if (loaded->is_error()) {
    if (auto log = spdlog::get("routing")) log->error("Redis refused the script library: {}", loaded->str);
    co_return make_error_code(store::redis_errc::server_error);
  }
  auto listed = co_await redis.exec(store::make_command("FUNCTION", "LIST", "LIBRARYNAME", library_prefix + "*"));
  if (!listed) co_return listed.error();
  // Each library: [library_name, <name>, engine, LUA, functions, [...]].
  for (const auto& entry : listed->elements) {
    for (std::size_t i = 0; i + 1 < entry.elements.size(); i += 2) {
      const auto& name = entry.elements[i + 1].str;
      if (entry.elements[i].str != "library_name" || name == library.name) continue;
      auto deleted = co_await redis.exec(store::make_command("FUNCTION", "DELETE", name));
      if (!deleted) co_return deleted.error();
    }
  }
  co_return store::result<void>{};
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace pasokh::routing

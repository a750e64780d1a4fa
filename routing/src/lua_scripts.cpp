#include "lua_scripts.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>

namespace pasokh::routing {

const store::lua_script& script(const char* body) {
  // Hashing the source once per script, on first use.
  static std::mutex mutex;
  static std::map<const char*, std::unique_ptr<store::lua_script>> scripts;
  std::lock_guard lock(mutex);
  auto& slot = scripts[body];
  if (!slot) slot = std::make_unique<store::lua_script>(std::string(lua::prelude) + "\n" + body);
  return *slot;
}

const store::lua_script& routing_script(const char* body) {
  static std::mutex mutex;
  static std::map<const char*, std::unique_ptr<store::lua_script>> scripts;
  std::lock_guard lock(mutex);
  auto& slot = scripts[body];
  if (!slot)
    slot = std::make_unique<store::lua_script>(std::string(lua::prelude) + "\n" + lua::routing_lib + "\n" + body);
  return *slot;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace pasokh::routing

#include "pasokh/store/redis_client.hpp"

#include "connection.hpp"

#include <boost/asio/post.hpp>

#include <set>
#include <string_view>

namespace pasokh::store {

namespace asio = boost::asio;

namespace {

std::string_view text(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING ? std::string_view(r->str, r->len) : std::string_view{};
}

struct subscriber_core : detail::connection {
  subscriber_core(asio::any_io_executor ex, redis_config cfg, redis_subscriber::handler on_message)
      : connection(std::move(ex), std::move(cfg), "subscriber"), on_message_(std::move(on_message)) {}
  ~subscriber_core() override { abandon(); }

  // Strand.
  void add(bool pattern, std::string name) {
    auto& names = pattern ? patterns_ : channels_;
    auto [it, inserted] = names.insert(std::move(name));
    if (!inserted) return;
    if (auto* ac = ready_context()) send_subscribe(ac, pattern, *it);
  }

  bool send_subscribe(redisAsyncContext* ac, bool pattern, const std::string& name) {
    // One name per command: hiredis 0.14 tracks subscriptions per name.
    const std::string args[] = {pattern ? "PSUBSCRIBE" : "SUBSCRIBE", name};
    return detail::append_command(ac, &subscriber_core::on_push, nullptr, args);
  }

  void on_ready() override {
    auto* ac = ready_context();
    confirmations_due_ = 0;
    for (const auto& c : channels_) confirmations_due_ += send_subscribe(ac, false, c) ? 1 : 0;
    for (const auto& p : patterns_) confirmations_due_ += send_subscribe(ac, true, p) ? 1 : 0;
    if (confirmations_due_ == 0) resubscribed();
  }

  void on_lost() override { confirmations_due_ = 0; }

  static void on_push(redisAsyncContext* ac, void* r, void*) {
    auto& self = static_cast<subscriber_core&>(*static_cast<detail::connection*>(ac->data));
    self.on_push(static_cast<const redisReply*>(r));
  }

  void on_push(const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;  // null: the link is closing
    auto kind = text(r->element[0]);
    if (kind == "message") {
      deliver(text(r->element[1]), text(r->element[2]));
    } else if (kind == "pmessage" && r->elements >= 4) {
      deliver(text(r->element[2]), text(r->element[3]));
    } else if (kind == "subscribe" || kind == "psubscribe") {
      // The batch sent on connect is confirmed first; later ones don't count.
      if (confirmations_due_ > 0 && --confirmations_due_ == 0) resubscribed();
    }
  }

  // Exceptions must not unwind through hiredis (C).
  void deliver(std::string_view channel, std::string_view payload) {
    try {
      on_message_(channel, payload);
    } catch (const std::exception& e) {
      log_->error("redis subscriber: handler threw on channel={}: {}", channel, e.what());
    }
  }

  void resubscribed() {
    log_->info("redis subscriber: subscribed to {} channels and {} patterns", channels_.size(), patterns_.size());
    for (const auto& cb : on_resubscribed_) {
      try {
        cb();
      } catch (const std::exception& e) {
        log_->error("redis subscriber: on_resubscribed callback threw: {}", e.what());
      }
    }
  }

  redis_subscriber::handler on_message_;
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::vector<std::function<void()>> on_resubscribed_;
  std::size_t confirmations_due_ = 0;  // of the batch sent on (re)connect
};

}  // namespace

struct redis_subscriber::impl final : subscriber_core {
  using subscriber_core::subscriber_core;
};

redis_subscriber::redis_subscriber(asio::any_io_executor ex, redis_config cfg, handler on_message)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(cfg), std::move(on_message))) {}

redis_subscriber::~redis_subscriber() {
  if (impl_) impl_->stop();
}

void redis_subscriber::start() { impl_->start(); }
void redis_subscriber::stop() { impl_->stop(); }
bool redis_subscriber::connected() const noexcept { return impl_->connected(); }

void redis_subscriber::subscribe(std::string channel) {
  asio::post(impl_->strand(), [self = impl_, channel = std::move(channel)]() mutable {
    self->add(false, std::move(channel));
  });
}

void redis_subscriber::psubscribe(std::string pattern) {
  asio::post(impl_->strand(), [self = impl_, pattern = std::move(pattern)]() mutable {
    self->add(true, std::move(pattern));
  });
}

void redis_subscriber::on_resubscribed(std::function<void()> cb) {
  asio::post(impl_->strand(), [self = impl_, cb = std::move(cb)]() mutable {
    self->on_resubscribed_.push_back(std::move(cb));
  });
}

}  // namespace pasokh::store

// Hands each decoded packet to every analyzer, after recording its sender in the HostTable and
// looking its flow up in the one FlowTable (once per packet: the analyzers read it from the
// PacketContext), and turns packet time into once-a-second ticks.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/flow_table.hpp"
#include "analyzers/host_table.hpp"
#include "analyzers/packet_context.hpp"

namespace clinicwatch {

class Dispatcher {
  public:
    explicit Dispatcher(HostTable& hosts, FlowTableSettings flows = {})
        : hosts_(hosts), app_(flows) {
        app_.flows().set_on_end([this](Flow& flow) {
            for (auto& a : analyzers_) a->on_flow_end(flow);
        });
    }
    // The flow table's hook refers to this dispatcher.
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void add(std::unique_ptr<Analyzer> analyzer) { analyzers_.push_back(std::move(analyzer)); }
    const std::vector<std::unique_ptr<Analyzer>>& analyzers() const { return analyzers_; }
    // Removes every analyzer (a configuration reload installs new ones); hosts are kept.
    void clear() { analyzers_.clear(); }
    // Hands every analyzer over (a reload keeps some and adds them back); hosts are kept.
    std::vector<std::unique_ptr<Analyzer>> take_all() { return std::exchange(analyzers_, {}); }

    void on_packet(const Packet& packet);
    // End of input: every analyzer closes what it has open.
    void finish();

    const FlowTable& flows() const { return app_.flows(); }
    // The dispatcher's own bounded tables (the flow table), then every analyzer's.
    void table_use(std::vector<TableUse>& out) const;

    Timestamp now() const { return now_; }
    std::uint64_t packets() const { return packets_; }
    std::uint64_t undecodable() const { return undecodable_; }

  private:
    HostTable& hosts_;
    std::vector<std::unique_ptr<Analyzer>> analyzers_;
    ApplicationLayer app_;
    Timestamp next_flow_expiry_ = 0;
    static constexpr Timestamp kFlowExpiryInterval = 10 * kMicrosPerSecond;
    Timestamp now_ = 0;
    Timestamp next_tick_ = 0;
    std::uint64_t packets_ = 0;
    std::uint64_t undecodable_ = 0;
};

}  // namespace clinicwatch

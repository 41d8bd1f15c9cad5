import Frontends
import Plugins
import JSON
import Proxy

extension Supervisor {
    /// Everything worth graphing, in Prometheus text format: requests, upstreams, plugins,
    /// reloads, the watcher and HTTP sessions.
    var metricsText: String {
        var text = PrometheusText()
        text.declare("plugboard_up", .gauge, help: "1 while plugboard runs.")
        text.sample("plugboard_up", 1)
        text.declare("plugboard_ready", .gauge, help: "1 when /readyz answers 200.")
        text.sample("plugboard_ready", readiness.isReady ? 1 : 0)
        if let core { addProxyMetrics(core, to: &text) }
        if let core { addPluginMetrics(core.status.pluginPools, to: &text) }
        text.declare("plugboard_core_restarts_total", .counter, help: "Times the proxy core was replaced after a crash, hang or memory cap.")
        text.sample("plugboard_core_restarts_total", coreRestarts)
        text.declare("plugboard_reloads_total", .counter, help: "Reloads attempted (file changes and SIGHUP).")
        text.sample("plugboard_reloads_total", reloadCount)
        text.declare("plugboard_generation", .gauge, help: "The configuration generation serving requests.")
        text.sample("plugboard_generation", core?.generation ?? 0)
        if let counters = watcherCounters {
            text.declare("plugboard_watcher_events_total", .counter, help: "inotify events read.")
            text.sample("plugboard_watcher_events_total", counters.events)
            text.declare("plugboard_watcher_overflows_total", .counter, help: "inotify queue overflows (each followed by a rescan).")
            text.sample("plugboard_watcher_overflows_total", counters.overflows)
            text.declare("plugboard_watcher_change_sets_total", .counter, help: "Settled change sets that triggered a reload.")
            text.sample("plugboard_watcher_change_sets_total", counters.changeSets)
            text.declare("plugboard_watcher_watches", .gauge, help: "Directories watched.")
            text.sample("plugboard_watcher_watches", counters.watches)
        }
        if let httpFrontend { addHTTPMetrics(httpFrontend, to: &text) }
        return text.text
    }

    private func addProxyMetrics(_ core: ProxyCore, to text: inout PrometheusText) {
        text.declare("plugboard_requests_total", .counter, help: "Client requests answered, by method and outcome.")
        let histograms = core.requestMetrics.histograms.sorted { ($0.key.method, $0.key.outcome.rawValue) < ($1.key.method, $1.key.outcome.rawValue) }
        for (key, histogram) in histograms {
            text.sample("plugboard_requests_total", labels: [("method", key.method), ("outcome", key.outcome.rawValue)], Double(histogram.count))
        }
        text.declare("plugboard_request_duration_seconds", .histogram, help: "Time from a client request to its answer.")
        for (key, histogram) in histograms {
            text.histogram(
                "plugboard_request_duration_seconds", labels: [("method", key.method), ("outcome", key.outcome.rawValue)],
                buckets: histogram.cumulative, sum: histogram.sum, count: histogram.count)
        }
        let status = core.status
        text.declare("plugboard_client_sessions", .gauge, help: "Client sessions open (all frontends).")
        text.sample("plugboard_client_sessions", status.sessions)
        for (name, help, value) in [
            ("plugboard_client_parse_errors_total", "Client messages that were not JSON.", status.parseErrors),
            ("plugboard_client_invalid_requests_total", "Client messages that were not valid JSON-RPC.", status.invalidRequests),
            ("plugboard_client_notifications_total", "Client notifications received.", status.notifications),
        ] {
            text.declare(name, .counter, help: help)
            text.sample(name, value)
        }
        let accounting = status.accounting
        text.declare("plugboard_client_requests_unanswered", .gauge, help: "Client requests received and not answered yet.")
        text.sample("plugboard_client_requests_unanswered", accounting.unanswered)
        text.declare("plugboard_client_requests_unanswerable_total", .counter, help: "Client requests that ended without an answer, by why.")
        for (reason, value) in [("abandoned", accounting.abandoned), ("cancelled", accounting.cancelled), ("duplicate_id", accounting.duplicateIDs)] {
            text.sample("plugboard_client_requests_unanswerable_total", labels: [("reason", reason)], value)
        }
        text.declare("plugboard_upstream_up", .gauge, help: "1 when the upstream is started or ready, 0 when restarting or stopped.")
        for upstream in status.upstreams {
            text.sample("plugboard_upstream_up", labels: [("server", upstream.name), ("phase", upstream.phase)], upstream.isUp ? 1 : 0)
        }
        let upstreamFields: [PrometheusText.Field<UpstreamStatus>] = [
            ("in_flight", .gauge, "Requests waiting for the upstream's answer.", \.inFlight),
            ("requests_sent", .counter, "Requests sent to the upstream.", \.requestsSent),
            ("responses_received", .counter, "Responses received from the upstream.", \.responsesReceived),
            ("timeouts", .counter, "Requests the upstream did not answer in time.", \.timeouts),
            ("restarts", .counter, "Times the upstream was restarted.", \.restarts),
            ("failed_by_exit", .counter, "Requests failed because the upstream exited.", \.failedByExit),
            ("unmatched_responses", .counter, "Responses with an id nobody asked for.", \.unmatchedResponses),
            ("malformed_messages", .counter, "Lines from the upstream that were not valid JSON-RPC.", \.malformedMessages),
        ]
        text.family("plugboard_upstream_", upstreamFields, of: status.upstreams) { ("server", $0.name) }
        addOAuthMetrics(status.upstreams, to: &text)
        let savings = status.tokenSavings.counts.sorted { $0.key < $1.key }
        guard !savings.isEmpty else { return }
        text.declare("plugboard_plugin_tokens_total", .counter, help: "Tokens into and out of plugins that report them (curate), by plugin and server.")
        for (key, count) in savings {
            let labels = [("plugin", key.plugin), ("server", key.server)]
            text.sample("plugboard_plugin_tokens_total", labels: labels + [("direction", "in")], count.tokensIn)
            text.sample("plugboard_plugin_tokens_total", labels: labels + [("direction", "out")], count.tokensOut)
        }
        text.declare("plugboard_plugin_tokens_saved_total", .counter, help: "Tokens plugins removed from results (in − out).")
        for (key, count) in savings {
            text.sample("plugboard_plugin_tokens_saved_total", labels: [("plugin", key.plugin), ("server", key.server)], count.tokensIn - count.tokensOut)
        }
    }

    private func addOAuthMetrics(_ upstreams: [UpstreamStatus], to text: inout PrometheusText) {
        let authorized = upstreams.compactMap { upstream in upstream.oauth.map { (server: upstream.name, oauth: $0) } }
        guard !authorized.isEmpty else { return }
        text.declare("plugboard_upstream_oauth_authorized", .gauge, help: "1 when plugboard holds a usable access token for the server.")
        for (name, oauth) in authorized {
            text.sample("plugboard_upstream_oauth_authorized", labels: [("server", name)], oauth.isAuthorized ? 1 : 0)
        }
        let oauthFields: [PrometheusText.Field<(server: String, oauth: UpstreamStatus.OAuthStatus)>] = [
            ("renewals", .counter, "Access token refreshes and client-credentials grants started.", \.oauth.renewals),
            ("renewal_failures", .counter, "Token renewals that failed.", \.oauth.renewalFailures),
            ("rejections", .counter, "Requests the server refused with 401 or 403.", \.oauth.rejections),
        ]
        text.family("plugboard_upstream_oauth_", oauthFields, of: authorized) { ("server", $0.server) }
    }

    private func addPluginMetrics(_ pools: [PluginPoolStatus], to text: inout PrometheusText) {
        let plugins = PluginCallStatus.merged(pools.flatMap(\.callsByPlugin))
        text.declare("plugboard_plugin_calls_total", .counter, help: "Plugin calls, by plugin.")
        for plugin in plugins { text.sample("plugboard_plugin_calls_total", labels: [("plugin", plugin.plugin)], plugin.calls) }
        text.declare("plugboard_plugin_failures_total", .counter, help: "Plugin calls that failed, by plugin and kind.")
        for plugin in plugins {
            for (kind, count) in plugin.failuresByKind.sorted(by: { $0.key < $1.key }) {
                text.sample("plugboard_plugin_failures_total", labels: [("plugin", plugin.plugin), ("kind", kind)], count)
            }
        }
        let fields: [PrometheusText.Field<PluginPoolStatus>] = [
            ("workers_started", .counter, "Worker processes started.", \.workersStarted),
            ("worker_crashes", .counter, "Worker processes that died unasked.", \.workerCrashes),
            ("recycled", .counter, "Workers retired after their call count, age or memory limit.", \.recycled),
            ("queued", .gauge, "Calls waiting for a worker.", \.queued),
            ("in_flight", .gauge, "Calls running in workers.", \.inFlight),
            ("workers", .gauge, "Worker processes running.", \.workers.count),
        ]
        text.family("plugboard_plugin_", fields, of: pools) { ("plugin", $0.plugin) }
        text.declare("plugboard_plugin_duration_seconds", .histogram, help: "Plugin call latency, waiting included.")
        for plugin in plugins {
            text.histogram(
                "plugboard_plugin_duration_seconds", labels: [("plugin", plugin.plugin)], buckets: plugin.latencyBuckets,
                sum: plugin.latencySumSeconds, count: plugin.latencyCount)
        }
    }

    private func addHTTPMetrics(_ frontend: StreamableHTTPFrontend, to text: inout PrometheusText) {
        let counters = frontend.counters
        text.declare("plugboard_http_sessions", .gauge, help: "Streamable HTTP sessions open.")
        text.sample("plugboard_http_sessions", frontend.sessionCount)
        text.declare("plugboard_http_sessions_total", .counter, help: "Streamable HTTP sessions, by how they ended (or opened).")
        text.sample("plugboard_http_sessions_total", labels: [("event", "opened")], counters.sessionsOpened)
        text.sample("plugboard_http_sessions_total", labels: [("event", "deleted")], counters.sessionsDeleted)
        text.sample("plugboard_http_sessions_total", labels: [("event", "expired")], counters.sessionsExpired)
        text.declare("plugboard_http_connections", .gauge, help: "HTTP connections open.")
        text.sample("plugboard_http_connections", frontend.connectionCount)
        let server = frontend.httpCounters
        text.declare("plugboard_http_connections_total", .counter, help: "HTTP connections accepted.")
        text.sample("plugboard_http_connections_total", server.connectionsAccepted)
        text.declare("plugboard_http_responses_total", .counter, help: "HTTP responses of the MCP endpoint, by status.")
        for (status, count) in counters.responsesByStatus.sorted(by: { $0.key < $1.key }) {
            text.sample("plugboard_http_responses_total", labels: [("status", String(status))], Double(count))
        }
        text.declare("plugboard_http_bad_requests_total", .counter, help: "Malformed HTTP requests, by the status they got.")
        for (status, count) in server.badRequestsByStatus.sorted(by: { $0.key < $1.key }) {
            text.sample("plugboard_http_bad_requests_total", labels: [("status", String(status))], Double(count))
        }
        text.declare("plugboard_http_resumptions_total", .counter, help: "SSE streams resumed with Last-Event-ID.")
        text.sample("plugboard_http_resumptions_total", counters.resumptions)
        guard let certificates = frontend.certificates else { return }
        text.declare("plugboard_http_tls_handshake_failures_total", .counter, help: "Client connections whose TLS handshake failed.")
        text.sample("plugboard_http_tls_handshake_failures_total", server.tlsHandshakeFailures)
        text.declare("plugboard_tls_certificate_reloads_total", .counter, help: "Changed certificate files of the HTTPS listeners, by outcome.")
        text.sample("plugboard_tls_certificate_reloads_total", labels: [("outcome", "loaded")], certificates.rotations)
        text.sample("plugboard_tls_certificate_reloads_total", labels: [("outcome", "refused")], certificates.refusals)
    }
}

extension PrometheusText {
    /// One metric of a family: its name after the prefix, kind, help, and the value per item.
    typealias Field<Item> = (name: String, kind: Kind, help: String, value: (Item) -> Int)

    /// A metric per field (`PREFIXname`, `_total` added for counters), each sampled for every
    /// item under the label `label` gives it.
    mutating func family<Item>(_ prefix: String, _ fields: [Field<Item>], of items: [Item], label: (Item) -> (String, String)) {
        for field in fields {
            let name = prefix + field.name + (field.kind == .counter ? "_total" : "")
            declare(name, field.kind, help: field.help)
            for item in items { sample(name, labels: [label(item)], field.value(item)) }
        }
    }
}

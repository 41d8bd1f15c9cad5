import Config
import HTTP
import IO
import Logging
import Network

/// What the HTTP links share about the server they reach: its URL, checked, and a client for it.
enum RemoteEndpoint {
    /// The URL if plugboard can speak to it: plain `http://` only, as there is no TLS library.
    static func url(_ text: String) -> Result<HTTPURL, RemoteEndpointError> {
        guard let url = HTTPURL(text), url.scheme == "http" else {
            return .failure(RemoteEndpointError(description: text.hasPrefix("https:")
                ? "https upstreams are not supported (no TLS library); reach it through a local TLS proxy such as stunnel"
                : "not a usable http:// URL: \(text)"))
        }
        return .success(url)
    }

    /// A keep-alive client for the URL's origin whose responses may be as large as a message.
    static func client(for url: HTTPURL, limits: Limits, loop: EventLoop, log: Logger) -> HTTPClient {
        var httpLimits = HTTPLimits()
        httpLimits.maxBodyBytes = limits.maxMessageBytes
        return HTTPClient(host: url.host, port: url.port, loop: loop, log: log, limits: httpLimits)
    }
}

struct RemoteEndpointError: Error, CustomStringConvertible {
    let description: String
}

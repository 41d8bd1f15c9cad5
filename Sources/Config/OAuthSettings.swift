/// How plugboard authorizes itself to a remote server with OAuth 2.1 (`[servers.NAME.oauth]`).
///
/// Every `url` server may use OAuth: when it answers 401, plugboard uses the tokens that
/// `plugboard auth login NAME` stored. This table only adds what the server's authorization
/// server needs: pre-registered client credentials, a Client ID Metadata Document, scopes, or
/// the client-credentials grant for machine-to-machine servers.
public struct OAuthSettings: Sendable, Equatable {
    public enum Grant: String, Sendable, CaseIterable {
        /// A person logs in once with `plugboard auth login`; plugboard refreshes from then on.
        case authorizationCode = "authorization_code"
        /// plugboard obtains tokens itself with its own client credentials.
        case clientCredentials = "client_credentials"
    }

    /// A client registered with the authorization server beforehand (`client_id`).
    public var clientID: String?
    /// Its secret, for a confidential client (`client_secret`).
    public var clientSecret: SecretText?
    /// An https URL the user hosts whose document describes plugboard as a client
    /// (`client_metadata_url`); used as the client id where the server supports it.
    public var clientMetadataURL: String?
    /// The authorization server the pre-registered credentials belong to (`issuer`).
    public var issuer: String?
    /// Scopes requested besides those the server's challenge names (`scopes`).
    public var scopes: [String]
    public var grant: Grant
    /// A fixed loopback port for the login's redirect URI (`redirect_port`); 0 picks a free one.
    public var redirectPort: Int
    /// Where token files live: `[auth] token_directory`, resolved.
    public var tokenDirectory: String
    /// The configuration directory, for the login command an error tells the user to run.
    public var configDirectory: String
    /// False when a configured `Authorization` header already authorizes plugboard.
    public var enabled: Bool

    public init(
        clientID: String? = nil, clientSecret: SecretText? = nil, clientMetadataURL: String? = nil, issuer: String? = nil,
        scopes: [String] = [], grant: Grant = .authorizationCode, redirectPort: Int = 0, tokenDirectory: String = "",
        configDirectory: String = "", enabled: Bool = true
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientMetadataURL = clientMetadataURL
        self.issuer = issuer
        self.scopes = scopes
        self.grant = grant
        self.redirectPort = redirectPort
        self.tokenDirectory = tokenDirectory
        self.configDirectory = configDirectory
        self.enabled = enabled
    }

    /// `plugboard auth login NAME --config DIR`, the command that authorizes `server`.
    public func loginCommand(server: String) -> String {
        "plugboard auth login \(server) --config \(configDirectory)"
    }
}

/// Where OAuth tokens are kept when `[auth] token_directory` is not set: systemd's
/// `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/plugboard`, else `~/.local/state/plugboard`, each
/// with `/tokens` appended.
public enum DefaultTokenDirectory {
    public static func resolve(environment: (String) -> String?) -> String {
        if let systemd = environment("STATE_DIRECTORY"), let first = systemd.split(separator: ":").first, !first.isEmpty {
            return String(first) + "/tokens"
        }
        if let state = environment("XDG_STATE_HOME"), state.hasPrefix("/") { return state + "/plugboard/tokens" }
        if let home = environment("HOME"), home.hasPrefix("/") { return home + "/.local/state/plugboard/tokens" }
        return "/var/lib/plugboard/tokens"
    }
}

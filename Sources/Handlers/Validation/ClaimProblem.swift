/// Why a token's claims were refused; the grant or authenticator decides which OAuth error it becomes.
public struct ClaimProblem: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

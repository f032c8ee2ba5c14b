/// Salt for secrets hashed at load time (from `secret_env`) and by `baton secret hash`.
public enum SecretSalt {
    public static func fresh() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

//! Lua scripts: sent by their SHA-1 (`EVALSHA`), and whole (`EVAL`) when the server does not
//! know them yet.

use redis::{Cmd, ToRedisArgs};

/// A Lua script, kept with its SHA-1 digest.
#[derive(Debug, Clone)]
pub struct Script {
    code: String,
    hash: String,
}

impl Script {
    /// The script `code`.
    pub fn new(code: &str) -> Script {
        Script {
            hash: redis::Script::new(code).get_hash().to_owned(),
            code: code.to_owned(),
        }
    }

    /// A call of the script, with no keys or arguments yet.
    pub fn call(&self) -> ScriptCall<'_> {
        ScriptCall {
            script: self,
            keys: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// One call of a [`Script`]: its keys and arguments. Run it with
/// [`Redis::invoke`](crate::Redis::invoke).
#[derive(Debug, Clone)]
pub struct ScriptCall<'a> {
    script: &'a Script,
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

impl ScriptCall<'_> {
    /// With one more key (`KEYS[n]`).
    pub fn key(mut self, key: impl ToRedisArgs) -> Self {
        key.write_redis_args(&mut self.keys);
        self
    }

    /// With one more argument (`ARGV[n]`).
    pub fn arg(mut self, arg: impl ToRedisArgs) -> Self {
        arg.write_redis_args(&mut self.args);
        self
    }

    /// `EVALSHA <sha1> ...`, or `EVAL <code> ...` when `whole`.
    pub(crate) fn cmd(&self, whole: bool) -> Cmd {
        let mut cmd = if whole {
            let mut c = redis::cmd("EVAL");
            c.arg(&self.script.code);
            c
        } else {
            let mut c = redis::cmd("EVALSHA");
            c.arg(&self.script.hash);
            c
        };
        cmd.arg(self.keys.len()).arg(&self.keys).arg(&self.args);
        cmd
    }
}

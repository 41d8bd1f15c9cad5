import JSON

/// Task ids of the tasks extension (and of 2025-11-25's tasks) across an aggregate: a server's
/// `taskId` is shown to clients as `<server><separator><taskId>`, so that `tasks/*` requests
/// find their server again without plugboard keeping any state (a restarted or scaled-out
/// plugboard routes the same id the same way).
struct TaskHandles {
    let separator: String

    /// The methods whose `params.taskId` names a task.
    static let methods: Set<String> = [
        MCPMethod.tasksGet, MCPMethod.tasksUpdate, MCPMethod.tasksCancel, MCPMethod.tasksResult,
    ]

    /// The notifications whose `params.taskId` names a task.
    static let notifications: Set<String> = [MCPMethod.tasksNotification, MCPMethod.tasksStatusNotification]

    /// The server and the server's own id behind an exposed task id.
    func route(_ exposed: String) -> (server: String, taskId: String)? {
        guard let range = exposed.range(of: separator), range.lowerBound > exposed.startIndex else { return nil }
        return (String(exposed[..<range.lowerBound]), String(exposed[range.upperBound...]))
    }

    func exposed(_ taskId: String, of server: String) -> String { server + separator + taskId }

    /// A result with the task ids of `server` exposed: a `CreateTaskResult` (`resultType: "task"`,
    /// or 2025-11-25's `task` object), a `tasks/*` answer, and 2025-11-25's `tasks/list`.
    func exposing(result: JSONValue, of server: String, method: String) -> JSONValue {
        guard case .object(var object) = result else { return result }
        if let taskId = object["taskId"]?.stringValue, object["resultType"]?.stringValue == "task" || Self.methods.contains(method) {
            object["taskId"] = .string(exposed(taskId, of: server))
        }
        if case .object(var task)? = object["task"], let taskId = task["taskId"]?.stringValue, task["status"] != nil {
            task["taskId"] = .string(exposed(taskId, of: server))
            object["task"] = .object(task)
        }
        if method == MCPMethod.tasksList, case .array(let tasks)? = object["tasks"] {
            object["tasks"] = .array(
                tasks.map { entry in
                    guard case .object(var task) = entry, let taskId = task["taskId"]?.stringValue else { return entry }
                    task["taskId"] = .string(exposed(taskId, of: server))
                    return .object(task)
                })
        }
        return .object(object)
    }

    /// Whether a result may carry a task id, judged from its bytes before anything is parsed.
    static func mayCarryTaskID(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.contains(subsequence: taskIDKey)
    }

    private static let taskIDKey = Array("\"taskId\"".utf8)
}

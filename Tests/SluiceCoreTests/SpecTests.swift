import Testing

@testable import SluiceCore

@Suite struct PromptTemplateTests {
    @Test func templateSectionsNestOnlySoDeep() throws {
        let deep =
            String(repeating: "{{#a}}", count: PromptTemplate.maxSectionDepth) + "x"
            + String(repeating: "{{/a}}", count: PromptTemplate.maxSectionDepth)
        #expect(try PromptTemplate(deep).optionalFields == ["a"])
        #expect(throws: SpecError(field: "template", message: "sections nest more than 32 deep in the template")) {
            try PromptTemplate(String(repeating: "{{#a}}", count: 40_000))
        }
    }

    @Test func paramsPassOnlyFromTheAllowList() throws {
        let given = JSONObject([("temperature", 0), ("n", 1), ("stream", false)])
        #expect(try ModelParams.checked(given, allowed: ModelParams.chat, field: "params") == JSONObject([("temperature", 0)]))
        #expect(throws: SpecError.self) {
            try ModelParams.checked(JSONObject([("logprobs", true)]), allowed: ModelParams.chat, field: "params")
        }
    }

    @Test func rendersFieldsAndDottedPaths() throws {
        let template = try PromptTemplate("Hi {{ name }}, from {{customer.city}}: {{tags}}")
        let fields = try #require(try JSONParser.parse(#"{"name": "Ada", "customer": {"city": "Paris"}, "tags": ["a", 1]}"#).objectValue)
        #expect(try template.render(fields) == #"Hi Ada, from Paris: ["a",1]"#)
        #expect(template.fields == ["name", "customer.city", "tags"])
    }

    @Test func aLiteralDottedColumnWinsOverAPath() throws {
        let template = try PromptTemplate("{{a.b}}")
        #expect(try template.render(JSONObject([("a.b", "column")])) == "column")
    }

    @Test func reportsMissingFields() throws {
        let template = try PromptTemplate("{{a}} {{b.c}} {{d}}")
        let fields = try #require(try JSONParser.parse(#"{"a": "x", "b": {"c": null}}"#).objectValue)
        #expect(template.missingFields(in: fields) == ["b.c", "d"])
        #expect(template.missingFields(inColumns: ["a", "b"]) == ["d"])
        #expect(throws: SpecError.self) { try template.render(fields) }
    }

    @Test func sectionsShowOnlyWhenTheFieldIsThere() throws {
        let template = try PromptTemplate("{{#url}}From {{url}}. {{/url}}{{q}}")
        #expect(template.fields == ["q"] && template.optionalFields == ["url"])
        #expect(try template.render(JSONObject([("q", "Why?"), ("url", "https://x")])) == "From https://x. Why?")
        #expect(try template.render(JSONObject([("q", "Why?"), ("url", "")])) == "Why?")
        #expect(try template.render(JSONObject([("q", "Why?")])) == "Why?")
        #expect(template.missingFields(inColumns: ["q"]).isEmpty)
    }

    @Test func theWholeRecordIsItsJSON() throws {
        let template = try PromptTemplate("Row: {{.}}")
        #expect(try template.render(JSONObject([("a", "1"), ("b", 2)])) == #"Row: {"a":"1","b":2}"#)
        #expect(template.missingFields(inColumns: []).isEmpty)
    }

    @Test(arguments: ["{{unclosed", "{{}}", "{{a..b}}", "{{.a}}", "{{#a}}open", "{{/a}}", "{{#a}}x{{/b}}", "{{#.}}x{{/.}}"])
    func refusesMalformedPlaceholders(source: String) {
        #expect(throws: SpecError.self) { try PromptTemplate(source) }
    }
}

@Suite struct OutputSchemaTests {
    let schema = try! OutputSchema(
        try! JSONParser.parse(
            #"""
            {"type": "object", "required": ["score", "label"], "additionalProperties": false,
             "properties": {
               "score": {"type": "integer", "minimum": 1, "maximum": 10},
               "label": {"type": "string", "enum": ["good", "bad"]},
               "note": {"type": "string", "minLength": 2, "maxLength": 5},
               "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
               "ratio": {"type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 1}
             }}
            """#))

    @Test func acceptsAConformingValue() throws {
        #expect(
            schema.validate(try JSONParser.parse(#"{"score": 3, "label": "good", "note": "ok", "tags": ["x"], "ratio": null}"#)).isEmpty)
        #expect(schema.validate(try JSONParser.parse(#"{"score": 3.0, "label": "bad", "ratio": 0.5}"#)).isEmpty)
    }

    @Test(arguments: [
        (#"{"label": "good"}"#, "$: missing required property 'score'"),
        (#"{"score": 11, "label": "good"}"#, "$.score: 11 is above the maximum 10"),
        (#"{"score": 0, "label": "good"}"#, "$.score: 0 is below the minimum 1"),
        (#"{"score": 2.5, "label": "good"}"#, "$.score: expected integer, got number"),
        (#"{"score": 2, "label": "meh"}"#, #"$.label: "meh" is not one of "good", "bad""#),
        (#"{"score": 2, "label": "bad", "extra": 1}"#, "$: unexpected property 'extra'"),
        (#"{"score": 2, "label": "bad", "note": "x"}"#, "$.note: shorter than 2 characters"),
        (#"{"score": 2, "label": "bad", "note": "toolong"}"#, "$.note: longer than 5 characters"),
        (#"{"score": 2, "label": "bad", "tags": []}"#, "$.tags: fewer than 1 items"),
        (#"{"score": 2, "label": "bad", "tags": ["a", "b", "c"]}"#, "$.tags: more than 2 items"),
        (#"{"score": 2, "label": "bad", "tags": [1]}"#, "$.tags[0]: expected string, got integer"),
        (#"{"score": 2, "label": "bad", "ratio": 1}"#, "$.ratio: 1 must be less than 1"),
        (#"[1]"#, "$: expected object, got array"),
    ])
    func reportsEachViolation(json: String, error: String) throws {
        #expect(schema.validate(try JSONParser.parse(json)) == [error])
    }

    @Test func refusesUnsupportedKeywordsAtSubmission() {
        #expect(throws: SpecError(field: "output_schema", message: "unsupported schema keyword 'pattern'")) {
            try OutputSchema(["type": "string", "pattern": "^a"])
        }
        #expect(throws: SpecError.self) { try OutputSchema(["type": "strin"]) }
    }
}

@Suite struct JobSpecTests {
    let presets: [String: JSONValue] = [
        "score": [
            "template": "Rate {{text}}", "params": ["temperature": 0, "max_tokens": 100], "batch_size": 10,
            "input": ["format": "csv"],
        ]
    ]

    @Test func presetFillsAndExplicitFieldsOverride() throws {
        let spec = try JobSpec.parse(
            ["preset": "score", "params": ["temperature": 0.5], "batch_size": 5, "input": ["delimiter": ";"]],
            preset: { presets[$0] })
        #expect(spec.template?.source == "Rate {{text}}")
        #expect(spec.params["temperature"] == .double(0.5))
        #expect(spec.params["max_tokens"] == .int(100))
        #expect(spec.batchSize == 5)
        #expect(spec.input.format == .csv)
        #expect(spec.input.delimiter == UInt8(ascii: ";"))
        #expect(spec.preset == "score")
    }

    @Test func defaults() throws {
        let spec = try JobSpec.parse(["template": "{{a}}"], preset: { _ in nil })
        #expect(spec.batchSize == 100)
        #expect(spec.itemsPerRequest == 1)
        #expect(spec.maxAttempts == 5)
        #expect(spec.provider == "builtin")
        #expect(spec.groupBy == nil)
    }

    @Test func fieldsPointTheTemplateAndGroupAtOtherColumns() throws {
        let spec = try JobSpec.parse(
            [
                "template": "{{#lang}}In {{lang}}: {{/lang}}{{question}} {{meta.page}}", "group_by": "chatId",
                "fields": ["question": "message", "chatId": "thread", "lang": "language", "meta": "info"],
            ], preset: { _ in nil })
        #expect(spec.template?.source == "{{#language}}In {{language}}: {{/language}}{{message}} {{info.page}}")
        #expect(spec.groupBy == "thread")
        #expect(spec.json["fields"] == nil, "applied once: the stored spec names the real columns")
        #expect(try JobSpec(stored: spec.json) == spec)
    }

    @Test func budgetBrakeAndCacheHaveDefaultsAndRoundTrip() throws {
        let plain = try JobSpec.parse(["template": "x"], preset: { _ in nil })
        #expect(plain.cache && plain.budget == nil && plain.failureBrake == .standard)
        let set = try JobSpec.parse(
            ["template": "x", "cache": false, "budget": ["tokens": 500, "cost_usd": 0.25], "failure_brake": false], preset: { _ in nil })
        #expect(!set.cache && set.budget == Budget(tokens: 500, costUSD: 0.25) && set.failureBrake == nil)
        #expect(set.budget?.costMicros == 250_000)
        #expect(try JobSpec(stored: set.json) == set)
    }

    @Test func tierAndDeadlineHaveDefaultsAndRoundTrip() throws {
        let plain = try JobSpec.parse(["template": "x"], preset: { _ in nil })
        #expect(plain.tier == .standard && plain.deadlineSeconds == nil && plain.maxReplyTokens == ReplyBudget.defaultCap)
        let auto = try JobSpec.parse(["template": "x", "tier": "auto", "deadline": "90m", "max_reply_tokens": 4096], preset: { _ in nil })
        #expect(auto.tier == .auto && auto.deadlineSeconds == 5_400 && auto.maxReplyTokens == 4096)
        #expect(auto.json["deadline"] == "90m")
        #expect(try JobSpec(stored: auto.json) == auto)
        #expect(try JobSpec.parse(["template": "x", "tier": "auto", "deadline": "7d"], preset: { _ in nil }).deadlineSeconds == 604_800)
        #expect(try JobSpec.parse(["template": "x", "tier": "batch"], preset: { _ in nil }).tier == .batch)
        // Any tier's job may have a deadline.
        #expect(try JobSpec.parse(["template": "x", "deadline": "2h"], preset: { _ in nil }).deadlineSeconds == 7_200)
        #expect(try JobSpec.parse(["template": "x", "tier": "flex", "deadline": "1d"], preset: { _ in nil }).deadlineSeconds == 86_400)
    }

    @Test func storedFormRoundTrips() throws {
        let spec = try JobSpec.parse(
            ["preset": "score", "output_schema": ["type": "object"], "group_by": "chatId", "system": "s"], preset: { presets[$0] })
        #expect(try JobSpec(stored: spec.json) == spec)
    }

    @Test(
        arguments: [
            (["template": "x", "batch_size": 0], "batch_size"),
            (["template": "x", "max_attempts": "3"], "max_attempts"),
            (["template": "x", "tier": "cheap"], "tier"),
            (["template": "x", "tier": "auto", "deadline": "30m"], "deadline"),
            (["template": "x", "tier": "auto", "deadline": "8d"], "deadline"),
            (["template": "x", "tier": "auto", "deadline": "12 hours"], "deadline"),
            (["template": "x", "deadline": "0h"], "deadline"),
            (["template": "x", "max_reply_tokens": 0], "max_reply_tokens"),
            (["template": "x", "max_reply_tokens": 1000, "params": ["max_tokens": 2000]], "params.max_tokens"),
            (["template": "x", "colour": "red"], "colour"),
            (["preset": "nope"], "preset"),
            (["model": "m"], "template"),
            (["template": "x", "group_by": "c", "items_per_request": 5], "items_per_request"),
            (["template": "x", "input": ["delimiter": ";;"]], "input.delimiter"),
            (["template": "x", "input": ["format": "xml"]], "input.format"),
            (["template": "x", "params": [1]], "params"),
            (["template": "{{a}}", "fields": ["b": "c"]], "fields.b"),
            (["template": "{{a}}", "fields": ["a": 1]], "fields.a"),
            (["template": "x", "budget": ["tokens": 0]], "budget.tokens"),
            (["template": "x", "budget": ["dollars": 1]], "budget.dollars"),
            (["template": "x", "failure_brake": ["rate": 1.5]], "failure_brake.rate"),
            (["template": "x", "cache": "no"], "cache"),
            (["template": "x", "vars": [1]], "vars"),
            (["template": "x", "input": ["chunk_chars": 10]], "input.chunk_chars"),
            (["template": "x", "input": ["sheet": ""]], "input.sheet"),
            (["template": "x", "reduce": ["template": "no parts here"]], "reduce.template"),
            (["template": "x", "reduce": ["template": "{{parts}}", "max_chars": 10]], "reduce.max_chars"),
            (["template": "x", "reduce": ["template": "{{parts}}", "colour": "red"]], "reduce.colour"),
            (["template": "x", "reduce": "combine"], "reduce"),
            (["input": ["format": "openai_batch"], "reduce": ["template": "{{parts}}"]], "reduce"),
        ] as [(JSONValue, String)])
    func refusesInvalidSpecs(json: JSONValue, field: String) {
        do {
            _ = try JobSpec.parse(json, preset: { presets[$0] })
            Issue.record("expected a spec error on \(field)")
        } catch {
            #expect(error.field == field)
        }
    }
}

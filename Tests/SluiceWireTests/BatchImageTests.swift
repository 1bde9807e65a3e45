import SluiceCore
import SluiceWire
import Testing

/// Batch lines carrying images, as each vendor writes them, read into the provider-neutral call
/// (and so sent on in either vendor's shape); what is not an image is refused at its part.
@Suite struct BatchImageTests {
    let dataURI = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="
    let png = ImageProbe(format: .png, width: 2, height: 1)

    func inline() throws -> ImagePart { try ImagePart.read(cell: dataURI) }

    @Test func anOpenAIChatLinesImagePartsAreRead() throws {
        let body: JSONValue = [
            "model": "gpt-4o-mini",
            "messages": [
                ["role": "system", "content": "Be brief."],
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "What is this?"],
                        ["type": "image_url", "image_url": ["url": "https://shop.test/a.jpg", "detail": "high"]],
                        ["type": "image_url", "image_url": ["url": .string(dataURI)]],
                    ],
                ],
            ],
        ]
        let request = try ChatCompletionsRequest.modelRequest(body: try #require(body.objectValue))
        #expect(
            request.messages.last?.parts == [
                .text("What is this?"), .image(ImagePart(source: .url("https://shop.test/a.jpg"), detail: "high")), .image(try inline()),
            ])
        #expect(request.system == "Be brief.")
    }

    @Test func aResponsesLinesInputImageIsRead() throws {
        let body: JSONValue = [
            "model": "gpt-4o-mini",
            "input": [
                [
                    "role": "user",
                    "content": [
                        ["type": "input_text", "text": "Describe it."],
                        ["type": "input_image", "image_url": "https://shop.test/b.png", "detail": "low"],
                    ],
                ]
            ],
        ]
        let request = try ResponsesRequest.modelRequest(body: try #require(body.objectValue))
        #expect(
            request.messages.last?.parts == [
                .text("Describe it."), .image(ImagePart(source: .url("https://shop.test/b.png"), detail: "low")),
            ])
    }

    @Test func anAnthropicRequestsImageBlocksAreRead() throws {
        let params: JSONValue = [
            "model": "claude-x", "max_tokens": 100,
            "messages": [
                [
                    "role": "user",
                    "content": [
                        [
                            "type": "image",
                            "source": ["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="],
                        ],
                        ["type": "image", "source": ["type": "url", "url": "https://shop.test/c.webp"]],
                        ["type": "text", "text": "Compare them."],
                    ],
                ]
            ],
        ]
        let request = try MessagesRequest.modelRequest(params: try #require(params.objectValue))
        #expect(
            request.messages.last?.parts == [
                .image(ImagePart(source: .inline(png, try inline().inlineBytes))),
                .image(ImagePart(source: .url("https://shop.test/c.webp"))),
                .text("Compare them."),
            ])
    }

    @Test func whatIsNoImageIsRefusedAtItsPart() throws {
        func refusal(_ parts: JSONValue) -> SpecError? {
            do {
                let body: JSONValue = ["model": "m", "messages": [["role": "user", "content": parts]]]
                _ = try ChatCompletionsRequest.modelRequest(body: body.objectValue!)
                return nil
            } catch { return error as? SpecError }
        }
        #expect(
            refusal([["type": "text", "text": "x"], ["type": "image_url", "image_url": ["url": "photo.jpg"]]])
                == SpecError(field: "messages[0].content[1]", message: "'photo.jpg' is neither an http(s) URL nor a data: URI"))
        #expect(
            refusal([["type": "input_audio", "input_audio": ["data": "AAAA", "format": "wav"]]])
                == SpecError(field: "messages[0].content[0]", message: "only text, image and file content parts are supported"))
        #expect(
            refusal([["type": "image_url"]])
                == SpecError(field: "messages[0].content[0]", message: "an image part needs its URL or base64 data"))
        do {
            let params: JSONValue = [
                "model": "m", "max_tokens": 5,
                "messages": [
                    [
                        "role": "user",
                        "content": [["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "JVBERi0x"]]],
                    ]
                ],
            ]
            _ = try MessagesRequest.modelRequest(params: params.objectValue!)
            Issue.record("a PDF's bytes were taken as an image")
        } catch {
            #expect(
                error as? SpecError
                    == SpecError(
                        field: "messages.0.content.0", message: "the data: URI holds no PNG, JPEG, GIF or WebP image (read by its bytes)"))
        }
    }
}

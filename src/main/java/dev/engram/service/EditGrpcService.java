package dev.engram.service;

import dev.engram.editing.EditResult;
import dev.engram.editing.Editor;
import dev.engram.grpc.v1.EditService;
import dev.engram.grpc.v1.ProposeEditRequest;
import dev.engram.grpc.v1.ProposeEditResponse;
import dev.engram.runtime.Model;
import dev.engram.verification.VerificationReport;
import dev.engram.verification.Verifier;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/** ProposeEdit: locate, edit and verify as a dry run. Nothing is stored; the served weights never change. */
@GrpcService
public class EditGrpcService implements EditService {
    private final ModelRegistry registry;
    private final EngramConfig config;
    private final SentinelPrompts sentinels;

    public EditGrpcService(ModelRegistry registry, EngramConfig config, SentinelPrompts sentinels) {
        this.registry = registry;
        this.config = config;
        this.sentinels = sentinels;
    }

    @Override
    @Blocking
    public Uni<ProposeEditResponse> proposeEdit(ProposeEditRequest request) {
        return Uni.createFrom().item(() -> GrpcErrors.call(() -> {
            long start = System.nanoTime();
            var r = request.getEdit();
            Model parent = registry.resolve(r.getModel());
            EditRequests.Checked checked = EditRequests.check(r, parent, config);
            Editor editor = new Editor(parent);
            EditResult result = editor.edit(checked.edit(), checked.options());
            Model edited = editor.apply(result);
            VerificationReport report = new Verifier(checked.thresholds())
                    .verify(parent, edited, checked.edit(), sentinels.of(parent.name()));
            return EditMapper.proposal(checked, ModelRegistry.refOf(parent, r.getModel()), result, report,
                    (System.nanoTime() - start) / 1_000_000);
        }));
    }
}

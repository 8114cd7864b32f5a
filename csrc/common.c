/* Precision-independent checks and sizes (see pynn.h). */
#include "common.h"

int64_t pynn_param_count(int64_t n_layers, const int64_t *sizes)
{
    int64_t total = 0;
    if (n_layers < 1 || sizes == NULL) return -1;
    for (int64_t l = 0; l < n_layers; l++) {
        if (sizes[l] < 1 || sizes[l + 1] < 1) return -1;
        if (!pynn_muladd_ok(&total, sizes[l], sizes[l + 1])) return -1;
        if (!pynn_muladd_ok(&total, sizes[l + 1], 1)) return -1;
    }
    return total;
}

int64_t pynn_max_width(const pynn_net *net)
{
    int64_t widest = 0;
    for (int64_t l = 1; l <= net->n_layers; l++)
        if (net->sizes[l] > widest) widest = net->sizes[l];
    return widest;
}

/* Layout for a batch of B rows: for each layer its pre-activation Z and its
 * output A (B x width each), then two B x max_width scratch buffers that the
 * backward pass ping-pongs between, then for each layer with dropout its
 * dropped-out input (B x its n_in) and its mask, a byte per element (in
 * ceil(B n_in / 4) elements: enough for float and double); then
 * (network.inc) packing space. */
int64_t pynn_activation_workspace(const pynn_net *net, int64_t batch)
{
    int64_t per_row = 0;
    int64_t total;
    if (net == NULL || net->sizes == NULL || net->n_layers < 1 || batch < 0) return -1;
    for (int64_t l = 1; l <= net->n_layers; l++)
        if (!pynn_muladd_ok(&per_row, net->sizes[l], 2)) return -1;
    if (!pynn_muladd_ok(&per_row, pynn_max_width(net), 2)) return -1;
    if (!pynn_mul_ok(per_row, batch, &total)) return -1;
    for (int64_t l = 0; l < net->n_layers; l++) {
        int64_t n;
        if (!pynn_has_dropout(net, l)) continue;
        if (!pynn_mul_ok(net->sizes[l], batch, &n) || !pynn_muladd_ok(&total, n, 1)) return -1;
        if (!pynn_muladd_ok(&total, n / 4 + (n % 4 != 0), 1)) return -1;
    }
    return total;
}

int64_t pynn_optimizer_state_size(const pynn_optimizer *opt, int64_t n)
{
    int64_t slots, out;
    if (opt == NULL || n < 0) return -1;
    switch (opt->kind) {
    case PYNN_SGD: slots = opt->momentum != 0.0 ? 1 : 0; break;
    case PYNN_ADAM:
    case PYNN_ADAMW: slots = 2; break;
    case PYNN_RMSPROP: slots = opt->momentum > 0.0 ? 2 : 1; break;
    default: return -1;
    }
    if (!pynn_mul_ok(slots, n, &out)) return -1;
    return out;
}

int pynn_check_net(const pynn_net *net, int64_t batch)
{
    int64_t need;
    int32_t last;
    if (net == NULL || net->sizes == NULL || net->acts == NULL || net->n_layers < 1)
        return PYNN_ERR_ARGUMENT;
    if (net->params == NULL || net->grads == NULL || net->work == NULL || batch < 1)
        return PYNN_ERR_ARGUMENT;
    if (pynn_param_count(net->n_layers, net->sizes) != net->n_params)
        return PYNN_ERR_ARGUMENT;
    for (int64_t l = 0; l < net->n_layers; l++) {
        int32_t act = net->acts[l];
        if (act < PYNN_LINEAR || act > PYNN_SOFTMAX) return PYNN_ERR_ARGUMENT;
        if (act == PYNN_SOFTMAX && l != net->n_layers - 1) return PYNN_ERR_ARGUMENT;
    }
    if (net->loss < PYNN_MSE || net->loss > PYNN_CROSS_ENTROPY) return PYNN_ERR_ARGUMENT;
    /* the fused losses need their output activation, and softmax needs its loss */
    last = net->acts[net->n_layers - 1];
    if ((net->loss == PYNN_CROSS_ENTROPY) != (last == PYNN_SOFTMAX)) return PYNN_ERR_ARGUMENT;
    if (net->loss == PYNN_BCE && last != PYNN_SIGMOID) return PYNN_ERR_ARGUMENT;
    if (net->simd < PYNN_SIMD_AUTO || net->simd > PYNN_SIMD_NEON) return PYNN_ERR_ARGUMENT;
    if (net->dropout != NULL)
        for (int64_t l = 0; l < net->n_layers; l++)
            if (!(net->dropout[l] >= 0 && net->dropout[l] < 1)) return PYNN_ERR_ARGUMENT;  /* NaN too */
    need = pynn_activation_workspace(net, batch);
    if (need < 0 || net->work_len < need) return PYNN_ERR_WORKSPACE;
    return PYNN_OK;
}
